/**
 * Where a connection's life is decided, for every kind alike: from `accept` on, this service owns
 * its count, its place in the fan-out, heartbeat and keep-alive, its close log, and its release.
 * A connection has no scope or fiber of its own (they cost too much: docs/architecture.md); the
 * fibers it needs are the service's, started through a runtime its scope owns.
 */
import { Context, Deferred, Duration, Effect, Exit, FiberId, FiberSet, Layer, Schedule } from "effect"
import { ServerConfig } from "../Config.js"
import { ConnectionLog } from "../ops/ConnectionLog.js"
import { Lifecycle } from "../ops/Lifecycle.js"
import { keepAliveMs } from "../wire/EventStream.js"
import type { ResumePoint } from "../wire/ResumePoint.js"
import type { Connection } from "./Connection.js"
import { MaxConnections } from "./ConnectionLimit.js"
import { type EncodingOf, makeFanOut, type Opening, type Run } from "./FanOut.js"

/** What admission needs to know of the connections: one count and one limit for every kind. */
export interface Capacity {
  readonly draining: boolean
  readonly open: number
  readonly maxConnections: number
}

export class Connections extends Context.Tag("IntegerForge/Connections")<Connections, {
  /** Every accepted connection that has not been released, of every kind. */
  readonly open: ReadonlySet<Connection>
  readonly capacity: () => Capacity
  /** Takes over an accepted connection: from now on it counts, is watched, and is logged. */
  readonly accept: (connection: Connection) => void
  /**
   * Makes an accepted connection a member of the fan-out: from now on it receives every integer
   * forged, in its encoding, after the ones it missed since `since`. `opening`, when
   * given, is told where it starts before anything of the sequence is written to it, within the
   * same step (what a protocol says first, such as Socket.IO's CONNECT answer).
   */
  readonly join: (connection: Connection, encodingOf: EncodingOf, since?: ResumePoint, opening?: Opening) => void
  /** On its close event: lets the connection go, once, with the code it closed with. */
  readonly release: (connection: Connection, code: number) => void
  readonly refused: (refusal: { readonly key: string; readonly status: number }, path: string, remote: string) => void
  readonly members: () => number
  /** Starts a fiber that the service's scope owns, from a callback (a Node or ws event). */
  readonly run: Run
  /** Runs `f` right after the next integer is written to the members (never, while there are none). */
  readonly atNextPass: (f: () => void) => void
  /** Done once every connection has been released, while draining. */
  readonly allReleased: Effect.Effect<void>
}>() {
  static readonly layer = Layer.scoped(Connections, Effect.suspend(() => make))
}

// Pings every plain WebSocket; one that has not answered the previous ping is cut off. A peer that
// vanished without a FIN (a phone that lost signal, a container behind NAT) looks open forever.
const heartbeat = (open: ReadonlySet<Connection>) =>
  Effect.sync(() => {
    for (const connection of open) {
      if (connection.transport.ping === undefined || !connection.isOpen) continue
      if (connection.dropIfSilent("heartbeat")) continue
      connection.pinged()
      connection.transport.ping(connection.socket)
    }
  })

const keepAlive = (open: ReadonlySet<Connection>) =>
  Effect.sync(() => {
    for (const connection of open) connection.transport.keepAlive?.(connection.socket)
  })

const every = (ms: number, effect: Effect.Effect<void>) =>
  Effect.forkScoped(Effect.schedule(effect, Schedule.spaced(Duration.millis(ms))))

const make = Effect.gen(function*() {
  const config = yield* ServerConfig
  const lifecycle = yield* Lifecycle
  const log = yield* ConnectionLog
  const maxConnections = yield* MaxConnections
  const run: Run = yield* FiberSet.makeRuntime<never>()
  const fanOut = yield* makeFanOut(run)
  const open = new Set<Connection>()

  // Resolved by the last release while draining, when no new connection can come.
  const emptied = Deferred.unsafeMake<void>(FiberId.none)
  const release = (connection: Connection, code: number) => {
    if (!open.delete(connection)) return
    fanOut.leave(connection)
    connection.released()
    log.closed(connection, code)
    if (open.size === 0 && lifecycle.phase() === "draining") Deferred.unsafeDone(emptied, Exit.void)
  }
  const accept = (connection: Connection) => {
    // Kept synchronously at accept and release, so a burst of upgrades cannot overshoot the limit.
    open.add(connection)
    log.opened(connection)
  }
  const capacity = (): Capacity => ({ draining: lifecycle.phase() === "draining", open: open.size, maxConnections })

  yield* every(config.heartbeatIntervalMs, heartbeat(open))
  yield* every(keepAliveMs, keepAlive(open))
  return {
    open,
    capacity,
    accept,
    join: fanOut.join,
    release,
    refused: log.refused,
    members: fanOut.size,
    atNextPass: fanOut.atNextPass,
    run,
    allReleased: Effect.suspend(() => open.size === 0 ? Effect.void : Deferred.await(emptied))
  }
})
