/**
 * One log line when a connection closes (with its path, its client, how long it lasted, its close
 * code and who closed it; at debug level one when it opens too), refused upgrades with their
 * reason, and the matching metrics.
 * Nothing here runs per message.
 *
 * Refusals are what a flood is made of, so each reason goes through `RateLimitedLog`.
 */
import { Context, Effect, FiberRef, Layer, LogLevel, Runtime } from "effect"
import { Metrics, type Protocol } from "./Metrics.js"
import { makeLogGate } from "./RateLimitedLog.js"
import { serverCloseReason } from "./ServerCloses.js"

/** A connection the log follows: a WebSocket, or an event stream that behaves like one. */
export interface LoggedConnection {
  on(event: "close", listener: (this: LoggedConnection, code: number) => void): unknown
  close(code: number, reason: string): void
  terminate(): void
}

export interface ConnectionInfo {
  /** The request path, without its query (which may carry tokens). */
  readonly path: string
  readonly remote: string
  readonly protocol: Protocol
}

export class ConnectionLog extends Context.Tag("IntegerForge/ConnectionLog")<ConnectionLog, {
  /** Records an accepted socket, and its close when it comes. */
  readonly opened: (socket: LoggedConnection, info: ConnectionInfo) => void
  readonly refused: (refusal: { readonly key: string; readonly status: number }, path: string, remote: string) => void
}>() {
  static readonly layer = Layer.effect(
    ConnectionLog,
    Effect.gen(function*() {
      const metrics = yield* Metrics
      const runSync = Runtime.runSync(yield* Effect.runtime<never>())
      const log = (message: string, fields: Record<string, unknown>) =>
        runSync(Effect.logInfo(message).pipe(Effect.annotateLogs(fields)))
      // The opening of a connection is logged only when asked for: its close line says all of it
      // (path, remote, protocol, how long it lasted), and a line per handshake was the largest
      // single cost of a reconnect wave. Decided once, so that nothing at all runs per
      // handshake when it is not wanted.
      const logOpenings = LogLevel.lessThanEqual(yield* FiberRef.get(FiberRef.currentMinimumLogLevel), LogLevel.Debug)

      // One shared close listener, and the connection's details beside the socket rather than in
      // a closure per connection.
      const details = new WeakMap<LoggedConnection, { readonly info: ConnectionInfo; readonly openedAt: number }>()
      function onClose(this: LoggedConnection, code: number) {
        const entry = details.get(this)
        if (entry === undefined) return
        details.delete(this)
        const reason = serverCloseReason(this)
        metrics.connectionClosed(entry.info.protocol, code, reason)
        log("connection closed", {
          ...entry.info,
          durationMs: Date.now() - entry.openedAt,
          code,
          closedBy: reason === undefined ? "client" : "server",
          ...(reason === undefined ? {} : { reason })
        })
      }
      const opened = (socket: LoggedConnection, info: ConnectionInfo) => {
        details.set(socket, { info, openedAt: Date.now() })
        metrics.connectionOpened(info.protocol)
        if (logOpenings) runSync(Effect.logDebug("connection opened").pipe(Effect.annotateLogs({ ...info })))
        socket.on("close", onClose)
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

      return { opened, refused }
    })
  )
}
