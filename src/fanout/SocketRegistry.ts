/**
 * The open sockets, and the one fan-out that feeds them all.
 *
 * While at least one socket is registered, the registry holds a single subscription to the forge
 * and a single fiber that takes each integer, encodes it once per audience (plain, Socket.IO),
 * and writes those frames to every open socket. There is no fiber per socket: a socket is an entry in a set, added and removed by
 * its connection scope.
 */
import { Context, Effect, Layer, Queue, RcRef, type Scope } from "effect"
import { WebSocket } from "ws"

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
import { ForgeConfig, ServerConfig } from "../Config.js"
import { IntegerForge } from "../forge/IntegerForge.js"
import { Metrics } from "../ops/Metrics.js"
import { closeBy } from "../ops/ServerCloses.js"
import { integerEvent } from "../socketio/SocketIoProtocol.js"
import { slowConsumer } from "../wire/CloseCodes.js"
import { replayRange } from "./Resume.js"

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
  closeBy(socket, "slow-consumer", slowConsumer.code, slowConsumer.reason)
  setTimeout(() => socket.terminate(), shedGraceMs).unref()
}

/** Who a socket is: a plain WebSocket client, or a Socket.IO client that joined "/". */
export type Audience = "plain" | "socket.io"

export class SocketRegistry extends Context.Tag("IntegerForge/SocketRegistry")<SocketRegistry, {
  /**
   * Adds an accepted socket for the life of the caller's scope: from now on it receives every
   * integer forged, in its audience's encoding. Closing the scope removes it; the last removal
   * stops the fan-out.
   */
  readonly register: (
    socket: Recipient,
    audience: Audience,
    since?: number | undefined
  ) => Effect.Effect<void, never, Scope.Scope>
  /** How many sockets are registered right now. */
  readonly size: () => number
}>() {
  static readonly layer = Layer.scoped(
    SocketRegistry,
    Effect.gen(function*() {
      const forge = yield* IntegerForge
      const metrics = yield* Metrics
      const { maxBufferedBytes } = yield* ServerConfig
      const { replayCapacity } = yield* ForgeConfig
      const members = new Map<Recipient, Audience>()
      let socketIoMembers = 0
      // The last integer written to the members, while the fan-out runs. When it does not, no
      // delivery is pending and the forge's own last integer is the one everyone has seen.
      let delivered: number | undefined

      // Each integer is encoded once per audience, and the same bytes go to every member of it.
      const deliver = (n: number) => {
        const plainFrame = encode(n, "plain")
        const socketIoFrame = socketIoMembers > 0 ? encode(n, "socket.io") : plainFrame
        let sent = 0
        for (const [socket, audience] of members) {
          if (socket.readyState !== WebSocket.OPEN) continue
          if (socket.bufferedAmount > maxBufferedBytes) shed(socket)
          else {
            socket.send(audience === "plain" ? plainFrame : socketIoFrame, textFrame)
            sent++
          }
        }
        metrics.messagesSent(sent)
        delivered = n
      }

      const encode = (n: number, audience: Audience) =>
        audience === "plain" ? Buffer.from(String(n)) : Buffer.from(integerEvent(n))

      // Synchronous, and followed at once by joining the members: no delivery can fall between
      // the last replayed integer and the first live one.
      const replay = (socket: Recipient, audience: Audience, since: number) => {
        const upTo = delivered ?? Effect.runSync(forge.status).last
        const range = replayRange(since, upTo, replayCapacity)
        if (range === undefined) return
        for (let n = range.from; n <= range.to; n++) socket.send(encode(n, audience), textFrame)
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

      const count = (audience: Audience, delta: number) => {
        if (audience === "socket.io") socketIoMembers += delta
      }

      const register = (socket: Recipient, audience: Audience, since?: number | undefined) =>
        Effect.acquireRelease(
          Effect.sync(() => {
            if (since !== undefined && socket.readyState === WebSocket.OPEN) replay(socket, audience, since)
            members.set(socket, audience)
            count(audience, 1)
          }),
          () =>
            Effect.sync(() => {
              if (members.delete(socket)) count(audience, -1)
            })
        ).pipe(Effect.zipRight(RcRef.get(fanOut)))

      return { register, size: () => members.size }
    })
  )
}
