/**
 * The one fan-out that feeds every member connection.
 *
 * While at least one connection is a member, the fan-out holds a single subscription to the forge
 * and a single fiber that takes each integer, encodes it once per audience, and writes those bytes
 * to every member. There is no fiber per connection: a member is an entry in a set, added when it
 * joins and removed when it is released.
 */
import { Effect, type Fiber, FiberId, Queue, RcRef, type Scope } from "effect"
import { ForgeConfig, ServerConfig } from "../Config.js"
import { IntegerForge, sequenceNameOf } from "../forge/IntegerForge.js"
import { Metrics } from "../ops/Metrics.js"
import type { Audience } from "../wire/Audience.js"
import type { ResumePoint } from "../wire/ResumePoint.js"
import type { Connection, Slot } from "./Connection.js"
import { resumePlan } from "./Resume.js"

/**
 * Called as a connection takes its place in the sequence, with the last integer before the first
 * one it will get, before any of them is written.
 */
export type Opening = (startsAfter: number) => void

/** How the fan-out's fibers are started: through a runtime owned by the layer that owns them. */
export type Run = <A, E>(effect: Effect.Effect<A, E>) => Fiber.RuntimeFiber<A, E>

// A replay is written in pieces of at most this many integers: one write per integer would queue
// up to REPLAY_CAPACITY buffers on a socket that is not reading, and Node 24 fails such a socket's
// writev (EINVAL) and destroys it.
const replayBatch = 1024

// How many queued integers one pass of the fan-out takes at most, so that a backlog is written
// in a few passes without holding the event loop for long.
const maxBatch = 64

/** The members, each with its audience's slot, and how many of them resumed ahead. */
const makeMembers = () => {
  const members = new Set<Connection>()
  const slots = new Map<Audience, Slot>()
  // Nearly always 0, so that the fan-out looks at `skipUpTo` only when some member has one.
  let ahead = 0

  const isAhead = (connection: Connection, n: number) => {
    const after = connection.skipUpTo
    if (after === undefined) return false
    if (n <= after) return true
    connection.skipUpTo = undefined
    ahead--
    return false
  }
  const skip = (connection: Connection, upTo: number) => {
    if (connection.skipUpTo === undefined) ahead++
    connection.skipUpTo = upTo
  }

  const add = (connection: Connection, audience: Audience) => {
    let slot = slots.get(audience)
    if (slot === undefined) slots.set(audience, slot = { audience, members: 0, bytes: Buffer.alloc(0) })
    slot.members++
    connection.slot = slot
    members.add(connection)
  }

  const remove = (connection: Connection) => {
    const slot = connection.slot
    if (slot === undefined || !members.delete(connection)) return
    connection.slot = undefined
    if (connection.skipUpTo !== undefined) {
      connection.skipUpTo = undefined
      ahead--
    }
    // An audience without members is not encoded for.
    if (--slot.members === 0) slots.delete(slot.audience)
  }

  return { members, slots, isAhead, skip, add, remove, anyAhead: () => ahead > 0 }
}

/**
 * A scoped resource held from `take` until `giveBack`, from synchronous code: a fiber that holds
 * it until interrupted, started through `run` so that the layer's scope owns it.
 */
const makeLease = (run: Run, acquire: Effect.Effect<unknown, never, Scope.Scope>) => {
  let holder: Fiber.RuntimeFiber<unknown, unknown> | undefined
  return {
    take: () => {
      holder = run(Effect.scoped(Effect.zipRight(acquire, Effect.never)))
    },
    giveBack: () => {
      holder?.unsafeInterruptAsFork(FiberId.none)
      holder = undefined
    }
  }
}

/** The integers of a replay, in as few writes as there are batches. */
const writeReplay = (
  connection: Connection,
  audience: Audience,
  range: { readonly from: number; readonly to: number }
) => {
  for (let from = range.from; from <= range.to; from += replayBatch) {
    const pieces: Array<Buffer> = []
    for (let n = from; n <= Math.min(range.to, from + replayBatch - 1); n++) pieces.push(audience.encode(n))
    connection.write(Buffer.concat(pieces))
  }
}

/** The fan-out's machinery; `run` starts its fibers, `runSync` reads the forge's state. */
export const makeFanOut = (run: Run, runSync: <A>(effect: Effect.Effect<A>) => A) =>
  Effect.gen(function*() {
    const forge = yield* IntegerForge
    const metrics = yield* Metrics
    const { maxBufferedBytes } = yield* ServerConfig
    const { replayCapacity } = yield* ForgeConfig
    const sequence = sequenceNameOf(forge)
    const shared = forge.sequence === undefined
    const { add, anyAhead, isAhead, members, remove, skip, slots } = makeMembers()
    // The last integer written to the members, while the fan-out runs. When it does not, no
    // delivery is pending and the forge's own last integer is the one everyone has seen.
    let delivered: number | undefined

    // Each integer is encoded once per audience, and the same bytes go to every member of it.
    const deliver = (n: number) => {
      for (const slot of slots.values()) slot.bytes = slot.audience.encode(n)
      let sent = 0
      const someAhead = anyAhead()
      for (const connection of members) {
        if (!connection.isOpen) continue
        if (someAhead && isAhead(connection, n)) continue
        if (connection.bufferedAmount > maxBufferedBytes) connection.shed()
        else {
          connection.write(connection.slot!.bytes)
          sent++
        }
      }
      metrics.messagesSent(sent)
      delivered = n
    }

    // Synchronous, and followed at once by joining the members: no delivery can fall between
    // the last replayed integer and the first live one.
    const takePlace = (
      connection: Connection,
      audience: Audience,
      since: ResumePoint | undefined,
      opening?: Opening
    ) => {
      const upTo = delivered ?? runSync(forge.status).last
      const plan = resumePlan(since, upTo, replayCapacity, sequence, shared)
      opening?.(plan.startsAfter)
      if (plan.skipUpTo !== undefined) skip(connection, plan.skipUpTo)
      if (plan.replay !== undefined && connection.isOpen) writeReplay(connection, audience, plan.replay)
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
    // to leave gives it back. A fiber per such change, none per connection.
    const lease = makeLease(run, RcRef.get(fanOut))
    const join = (connection: Connection, audience: Audience, since?: ResumePoint, opening?: Opening) => {
      if (connection.slot !== undefined) return
      // A plain client that asks for nothing again has no place to take but the live one.
      if (since !== undefined || opening !== undefined) takePlace(connection, audience, since, opening)
      add(connection, audience)
      if (members.size === 1) lease.take()
    }
    const leave = (connection: Connection) => {
      if (connection.slot === undefined) return
      remove(connection)
      if (members.size === 0) lease.giveBack()
    }
    // Whatever is left when the fan-out itself goes (a failed start): it stops with it.
    yield* Effect.addFinalizer(() => Effect.sync(lease.giveBack))

    return { join, leave, size: () => members.size }
  })
