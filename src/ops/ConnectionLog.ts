/**
 * The log lines and metrics of a connection's opening and close and of a refused upgrade; nothing
 * here runs per message. Refusals are what a flood is made of, so each reason is rate-limited.
 */
import { Context, Effect, FiberRef, FiberSet, Layer, LogLevel } from "effect"
import { Metrics, type Protocol } from "./Metrics.js"
import { makeLogGate } from "./RateLimitedLog.js"
import type { ServerCloseReason } from "./ServerCloses.js"

export interface LoggedConnection {
  /** Without its query, which may carry tokens. */
  readonly path: string
  readonly remote: string
  readonly kind: Protocol
  /** `Date.now()` when it was accepted. */
  readonly openedAt: number
  /** Undefined when its client closed it. */
  readonly closeReason: ServerCloseReason | undefined
}

type Refusal = { readonly key: string; readonly status: number }

export class ConnectionLog extends Context.Tag("IntegerForge/ConnectionLog")<ConnectionLog, {
  readonly opened: (connection: LoggedConnection) => void
  /** Once per connection. */
  readonly closed: (connection: LoggedConnection, code: number) => void
  readonly refused: (refusal: Refusal, path: string, remote: string) => void
}>() {
  static readonly layer = Layer.scoped(
    ConnectionLog,
    Effect.gen(function*() {
      const metrics = yield* Metrics
      // Called from ws and Node callbacks; once this layer is released, a line is dropped.
      const run = yield* FiberSet.makeRuntime<never>()
      const log = (message: string, fields: Record<string, unknown>) =>
        run(Effect.logInfo(message).pipe(Effect.annotateLogs(fields)))
      // The close line says all the opening would, and a line per handshake is the largest cost of
      // a reconnect wave: decided once, so that nothing runs per handshake unless asked for.
      const logOpenings = LogLevel.lessThanEqual(yield* FiberRef.get(FiberRef.currentMinimumLogLevel), LogLevel.Debug)
      const infoOf = (connection: LoggedConnection) => ({
        path: connection.path,
        remote: connection.remote,
        protocol: connection.kind
      })
      const gate = makeLogGate()

      return {
        opened: (connection) => {
          metrics.connectionOpened(connection.kind)
          if (logOpenings) run(Effect.logDebug("connection opened").pipe(Effect.annotateLogs(infoOf(connection))))
        },
        closed: (connection, code) => {
          const reason = connection.closeReason
          metrics.connectionClosed(connection.kind, code, reason)
          log("connection closed", {
            ...infoOf(connection),
            durationMs: Date.now() - connection.openedAt,
            code,
            closedBy: reason === undefined ? "client" : "server",
            ...(reason === undefined ? {} : { reason })
          })
        },
        refused: (refusal, path, remote) => {
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
      }
    })
  )
}
