/**
 * One log line when a connection closes (with its path, its client, how long it lasted, its close
 * code and who closed it; at debug level one when it opens too), refused upgrades with their
 * reason, and the matching metrics.
 * Nothing here runs per message.
 *
 * Refusals are what a flood is made of, so each reason goes through `RateLimitedLog`.
 */
import { Context, Effect, FiberRef, FiberSet, Layer, LogLevel } from "effect"
import { Metrics, type Protocol } from "./Metrics.js"
import { makeLogGate } from "./RateLimitedLog.js"
import type { ServerCloseReason } from "./ServerCloses.js"

/** What the log says of a connection: the connection itself carries all of it. */
export interface LoggedConnection {
  /** The request path, without its query (which may carry tokens). */
  readonly path: string
  readonly remote: string
  readonly kind: Protocol
  /** When it was accepted (`Date.now()`). */
  readonly openedAt: number
  /** Why the server ended it; undefined when its client did. */
  readonly closeReason: ServerCloseReason | undefined
}

export class ConnectionLog extends Context.Tag("IntegerForge/ConnectionLog")<ConnectionLog, {
  /** Counts an accepted connection (and logs it, at debug level). */
  readonly opened: (connection: LoggedConnection) => void
  /** Counts and logs a connection's close, with the code it closed with; once per connection. */
  readonly closed: (connection: LoggedConnection, code: number) => void
  readonly refused: (refusal: { readonly key: string; readonly status: number }, path: string, remote: string) => void
}>() {
  static readonly layer = Layer.scoped(
    ConnectionLog,
    Effect.gen(function*() {
      const metrics = yield* Metrics
      // Called from ws and Node callbacks; once this layer is released, a line is dropped.
      const run = yield* FiberSet.makeRuntime<never>()
      const log = (message: string, fields: Record<string, unknown>) =>
        run(Effect.logInfo(message).pipe(Effect.annotateLogs(fields)))
      // The opening of a connection is logged only when asked for: its close line says all of it
      // (path, remote, protocol, how long it lasted), and a line per handshake was the largest
      // single cost of a reconnect wave. Decided once, so that nothing at all runs per
      // handshake when it is not wanted.
      const logOpenings = LogLevel.lessThanEqual(yield* FiberRef.get(FiberRef.currentMinimumLogLevel), LogLevel.Debug)
      const infoOf = (connection: LoggedConnection) => ({
        path: connection.path,
        remote: connection.remote,
        protocol: connection.kind
      })

      const closed = (connection: LoggedConnection, code: number) => {
        const reason = connection.closeReason
        metrics.connectionClosed(connection.kind, code, reason)
        log("connection closed", {
          ...infoOf(connection),
          durationMs: Date.now() - connection.openedAt,
          code,
          closedBy: reason === undefined ? "client" : "server",
          ...(reason === undefined ? {} : { reason })
        })
      }
      const opened = (connection: LoggedConnection) => {
        metrics.connectionOpened(connection.kind)
        if (logOpenings) run(Effect.logDebug("connection opened").pipe(Effect.annotateLogs(infoOf(connection))))
      }

      const gate = makeLogGate()
      const refused = (refusal: { readonly key: string; readonly status: number }, path: string, remote: string) => {
        metrics.upgradeRefused(refusal.key)
        const heldBack = gate(refusal.key)
        if (heldBack === undefined) return
        log("upgrade refused", {
          reason: refusal.key,
          status: refusal.status,
          path,
          remote,
          ...(heldBack > 0 ? { suppressedSinceLastLine: heldBack } : {})
        })
      }

      return { opened, closed, refused }
    })
  )
}
