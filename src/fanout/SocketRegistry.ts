/**
 * The open sockets, and the one fan-out that feeds them all.
 *
 * While at least one socket is registered, the registry holds a single subscription to the forge
 * and a single fiber that takes each integer, encodes it once per audience, and writes those
 * frames to every open socket. There is no fiber per socket: a socket is an entry in a map, added
 * when it is accepted (or joins "/") and removed by its close event.
 */
import { Context, Effect, Exit, Layer, Queue, RcRef, Runtime, Scope } from "effect"
import { WebSocket } from "ws"
import { ForgeConfig, ServerConfig } from "../Config.js"
import { IntegerForge } from "../forge/IntegerForge.js"
import { Metrics } from "../ops/Metrics.js"
import { closeBy } from "../ops/ServerCloses.js"
import { slowConsumer } from "../wire/CloseCodes.js"
import { wholeTextFrame } from "../wire/Frames.js"
import { resumePlan } from "./Resume.js"

/**
 * What the fan-out needs of a socket: the part of ws's `WebSocket` it uses. Naming it lets the
 * forge-to-socket path be tested against `TestClock` with a recording recipient.
 */
export interface Recipient {
  readonly readyState: number
  readonly bufferedAmount: number
  send(data: Buffer, options: { readonly binary: boolean; readonly compress: boolean; readonly fin: boolean }): void
  close(code: number, reason: string): void
  terminate(): void
}

/**
 * Who a socket is, as far as the fan-out cares: how an integer is written for it. The protocol
 * modules define the audiences; the registry only encodes once per audience and per integer.
 */
export interface Audience {
  readonly encode: (n: number) => Buffer
  /** Whether encoded integers stay apart when written back to back (events of a stream do). */
  readonly selfDelimiting?: boolean
}

// A replay is written in pieces of at most this many integers: one write per integer would queue
// up to REPLAY_CAPACITY buffers on a socket that is not reading, and Node 24 fails such a socket's
// writev (EINVAL) and destroys it.
const replayBatch = 1024

const textFrame = { binary: false, compress: false, fin: true } as const

// How many queued integers one pass of the fan-out takes at most, so that a backlog is written
// in a few passes without holding the event loop for long.
const maxBatch = 64

// A shed socket is asked to close (1013), but a peer that does not read will never see the close
// frame behind its backlog: after this grace it is cut off.
const shedGraceMs = 1000

/**
 * Closes a socket whose unsent data has passed the limit. It leaves the fan-out at once (it is no
 * longer OPEN) and is terminated after a short grace if the close handshake does not finish.
 */
export const shed = (socket: Recipient) => {
  closeBy(socket, "slow-consumer", slowConsumer)
  setTimeout(() => socket.terminate(), shedGraceMs).unref()
}

/**
 * Called as a socket takes its place in the sequence, with the last integer before the first one
 * it will get, before any of them is written.
 */
export type Opening = (startsAfter: number) => void

/** An audience with members, and its frame for the integer being delivered. */
interface Slot {
  readonly audience: Audience
  members: number
  payload: Buffer
  /** The payload as a whole WebSocket frame, for the sockets written to directly. */
  frame: Buffer
}

/**
 * The TCP socket under a ws `WebSocket`. Writing a whole frame built once per integer straight to
 * it leaves nothing per socket but the write, which `send` does not (it frames every message
 * again). ws keeps the socket in a private field, so ws is pinned to one version in package.json
 * and test/service/FramePath.test.ts fails if the field is gone; a recipient without it (a
 * test's) is sent to with `send`. Safe beside ws's own writes because every write is a whole
 * frame and, without compression, ws queues nothing of its own.
 */
interface WithTcpSocket {
  readonly _socket?: { write(data: Buffer): boolean } | null
}

export class SocketRegistry extends Context.Tag("IntegerForge/SocketRegistry")<SocketRegistry, {
  /**
   * Adds an accepted socket: from now on it receives every integer forged, in its audience's
   * encoding, after the ones it missed since `since`. Synchronous, as accepting a socket is: no
   * fiber and no scope per connection. The first member starts the fan-out. `opening`, when
   * given, is told where the socket starts before anything of the sequence is written to it,
   * within the same step (what a protocol says first, such as Socket.IO's CONNECT answer).
   */
  readonly join: (
    socket: Recipient,
    audience: Audience,
    since?: number | undefined,
    opening?: Opening | undefined
  ) => void
  /** Removes a socket, if it is a member; the last one to leave stops the fan-out. */
  readonly leave: (socket: Recipient) => void
  /** `join` for the life of the caller's scope, and `leave` when it closes. */
  readonly register: (
    socket: Recipient,
    audience: Audience,
    since?: number | undefined
  ) => Effect.Effect<void, never, Scope.Scope>
  /** How many sockets are registered right now. */
  readonly size: () => number
}>() {
  static readonly layer = Layer.scoped(SocketRegistry, Effect.suspend(() => make))
}

/** The registered sockets, each with its audience's slot, and those that resumed ahead. */
const makeMembers = () => {
  const members = new Map<Recipient, Slot>()
  const slots = new Map<Audience, Slot>()
  // Sockets that resumed after an integer this instance has not delivered yet (it hears a shared
  // sequence a moment after another instance did): they skip the live integers up to it, so that
  // they see none twice. Empty nearly always, so the fan-out checks it only when it is not.
  const resumedAhead = new Map<Recipient, number>()

  const isAhead = (socket: Recipient, n: number) => {
    const after = resumedAhead.get(socket)
    if (after === undefined) return false
    if (n <= after) return true
    resumedAhead.delete(socket)
    return false
  }

  const join = (socket: Recipient, audience: Audience) => {
    let slot = slots.get(audience)
    if (slot === undefined) {
      slots.set(audience, slot = { audience, members: 0, payload: Buffer.alloc(0), frame: Buffer.alloc(0) })
    }
    slot.members++
    members.set(socket, slot)
  }

  const leave = (socket: Recipient) => {
    const slot = members.get(socket)
    if (slot === undefined) return
    members.delete(socket)
    resumedAhead.delete(socket)
    // An audience without members is not encoded for.
    if (--slot.members === 0) slots.delete(slot.audience)
  }

  return { members, slots, resumedAhead, isAhead, join, leave }
}

/** A scoped resource held from `take` until `giveBack`, from synchronous code. */
const makeLease = (runtime: Runtime.Runtime<never>, acquire: Effect.Effect<unknown, never, Scope.Scope>) => {
  let held: Scope.CloseableScope | undefined
  return {
    take: () => {
      const scope = Runtime.runSync(runtime)(Scope.make())
      held = scope
      Runtime.runFork(runtime)(Scope.extend(acquire, scope))
    },
    giveBack: () => {
      const scope = held
      held = undefined
      if (scope !== undefined) Runtime.runFork(runtime)(Scope.close(scope, Exit.void))
    }
  }
}

/** The integers of a replay, in as few writes as their encoding allows. */
const writeReplay = (socket: Recipient, audience: Audience, range: { readonly from: number; readonly to: number }) => {
  const tcp = (socket as WithTcpSocket)._socket
  for (let from = range.from; from <= range.to; from += replayBatch) {
    const pieces: Array<Buffer> = []
    for (let n = from; n <= Math.min(range.to, from + replayBatch - 1); n++) {
      pieces.push(tcp ? wholeTextFrame(audience.encode(n)) : audience.encode(n))
    }
    if (tcp) tcp.write(Buffer.concat(pieces))
    else if (audience.selfDelimiting) socket.send(Buffer.concat(pieces), textFrame)
    else for (const piece of pieces) socket.send(piece, textFrame)
  }
}

const make = Effect.gen(function*() {
  const forge = yield* IntegerForge
  const metrics = yield* Metrics
  const { maxBufferedBytes } = yield* ServerConfig
  const { replayCapacity } = yield* ForgeConfig
  const { isAhead, join: add, leave: remove, members, resumedAhead, slots } = makeMembers()
  const runtime = yield* Effect.runtime<never>()
  // The last integer written to the members, while the fan-out runs. When it does not, no
  // delivery is pending and the forge's own last integer is the one everyone has seen.
  let delivered: number | undefined

  // Each integer is encoded once per audience, and the same bytes go to every member of it.
  const deliver = (n: number) => {
    for (const slot of slots.values()) {
      slot.payload = slot.audience.encode(n)
      slot.frame = wholeTextFrame(slot.payload)
    }
    let sent = 0
    for (const [socket, slot] of members) {
      if (socket.readyState !== WebSocket.OPEN) continue
      if (resumedAhead.size > 0 && isAhead(socket, n)) continue
      if (socket.bufferedAmount > maxBufferedBytes) shed(socket)
      else {
        const tcp = (socket as WithTcpSocket)._socket
        if (tcp) tcp.write(slot.frame)
        else socket.send(slot.payload, textFrame)
        sent++
      }
    }
    metrics.messagesSent(sent)
    delivered = n
  }

  // Synchronous, and followed at once by joining the members: no delivery can fall between
  // the last replayed integer and the first live one.
  const takePlace = (socket: Recipient, audience: Audience, since: number | undefined, opening?: Opening) => {
    const upTo = delivered ?? Effect.runSync(forge.status).last
    const plan = resumePlan(since, upTo, replayCapacity, forge.sequence === undefined)
    opening?.(plan.startsAfter)
    if (plan.skipUpTo !== undefined) resumedAhead.set(socket, plan.skipUpTo)
    if (plan.replay !== undefined && socket.readyState === WebSocket.OPEN) writeReplay(socket, audience, plan.replay)
  }

  const fanOut = yield* RcRef.make({
    acquire: Effect.gen(function*() {
      const integers = yield* forge.subscribe
      // Everything forged before the subscription is either delivered already or was
      // forged while nobody listened; everything after comes through `integers`.
      yield* Effect.acquireRelease(
        Effect.map(forge.status, (status) => (delivered = status.last)),
        () => Effect.sync(() => (delivered = undefined))
      )
      yield* Queue.takeBetween(integers, 1, maxBatch).pipe(
        Effect.map((batch) => {
          for (const n of batch) deliver(n)
        }),
        Effect.forever,
        Effect.forkScoped
      )
    })
  })

  // The fan-out runs while there are members: the first to join takes a lease on it, the last
  // to leave gives it back. Two fibers per such change, none per connection.
  const lease = makeLease(runtime, RcRef.get(fanOut))
  const takeLease = lease.take
  const giveLeaseBack = lease.giveBack
  const join = (socket: Recipient, audience: Audience, since?: number | undefined, opening?: Opening) => {
    if (members.has(socket)) return
    // A plain socket that asks for nothing again has no place to take but the live one.
    if (since !== undefined || opening !== undefined) takePlace(socket, audience, since, opening)
    add(socket, audience)
    if (members.size === 1) takeLease()
  }
  const leave = (socket: Recipient) => {
    if (!members.has(socket)) return
    remove(socket)
    if (members.size === 0) giveLeaseBack()
  }
  // Whatever is left when the registry itself goes (a failed start): the fan-out stops with it.
  yield* Effect.addFinalizer(() => Effect.sync(giveLeaseBack))

  const register = (socket: Recipient, audience: Audience, since?: number | undefined) =>
    Effect.acquireRelease(Effect.sync(() => join(socket, audience, since)), () => Effect.sync(() => leave(socket)))

  return { join, leave, register, size: () => members.size }
})
