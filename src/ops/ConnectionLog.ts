/**
 * One log line when a connection opens and one when it closes (with how long it lasted, its
 * close code and who closed it), refused upgrades with their reason, and the matching metrics.
 * Nothing here runs per message.
 *
 * Refusals are what a flood is made of, so each reason goes through `RateLimitedLog`.
 */
import { Context, Effect, Layer, Runtime } from "effect"
import type { WebSocket } from "ws"
import { Metrics, type Protocol } from "./Metrics.js"
import { makeLogGate } from "./RateLimitedLog.js"
import { serverCloseReason } from "./ServerCloses.js"

export interface ConnectionInfo {
  /** The request path, without its query (which may carry tokens). */
  readonly path: string
  readonly remote: string
  readonly protocol: Protocol
}

export class ConnectionLog extends Context.Tag("IntegerForge/ConnectionLog")<ConnectionLog, {
  /** Records an accepted socket, and its close when it comes. */
  readonly opened: (socket: WebSocket, info: ConnectionInfo) => void
  readonly refused: (refusal: { readonly key: string; readonly status: number }, path: string, remote: string) => void
}>() {
  static readonly layer = Layer.effect(
    ConnectionLog,
    Effect.gen(function*() {
      const metrics = yield* Metrics
      const runSync = Runtime.runSync(yield* Effect.runtime<never>())
      const log = (message: string, fields: Record<string, unknown>) =>
        runSync(Effect.logInfo(message).pipe(Effect.annotateLogs(fields)))

      // One shared close listener, and the connection's details beside the socket rather than in
      // a closure per connection.
      const details = new WeakMap<WebSocket, { readonly info: ConnectionInfo; readonly openedAt: number }>()
      function onClose(this: WebSocket, code: number) {
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
      const opened = (socket: WebSocket, info: ConnectionInfo) => {
        details.set(socket, { info, openedAt: Date.now() })
        metrics.connectionOpened(info.protocol)
        log("connection opened", { ...info })
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
