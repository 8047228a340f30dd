/** The one Node HTTP server of the process; `Listener` makes it listen, `Shutdown` stop. */
import { Cause, Context, Effect, FiberSet, Layer } from "effect"
import * as Http from "node:http"
import type { Duplex } from "node:stream"
import { maxTimerMs, ServerConfig } from "../Config.js"
import { makeLogGate } from "../ops/RateLimitedLog.js"
import { type RawResponse, rawResponse } from "../wire/HttpResponse.js"

// Node answers a request it cannot parse by itself, without our headers; we answer instead so
// that even those responses say they reached the origin.
const clientErrorStatus: Record<string, number> = { HPE_HEADER_OVERFLOW: 431, ERR_HTTP_REQUEST_TIMEOUT: 408 }

/**
 * Writes a whole raw response and closes the connection once it is flushed: a client that was
 * refused may keep sending, and must not keep its socket.
 */
export const answerAndClose = (socket: Duplex, response: RawResponse) => {
  if (!socket.writable || socket.writableEnded) return socket.destroy()
  socket.once("finish", () => socket.destroy())
  socket.end(rawResponse(response))
}

export class NodeServer extends Context.Tag("IntegerForge/NodeServer")<NodeServer, Http.Server>() {
  static readonly layer = Layer.scoped(
    NodeServer,
    Effect.gen(function*() {
      const run = yield* FiberSet.makeRuntime<never>()
      const { handshakeTimeoutMs } = yield* ServerConfig
      // Accept failures (EMFILE when descriptors run out) come as a storm.
      const gate = makeLogGate()
      const logServerError = (error: Error) => {
        const heldBack = gate("server-error")
        if (heldBack === undefined) return
        const note = heldBack > 0 ? ` (${heldBack} more suppressed)` : ""
        run(Effect.logError(`HTTP server error${note}; still serving`, Cause.fail(error)))
      }
      const server = Http.createServer({
        // A client that opens a connection and never finishes its request head (the handshake,
        // for a WebSocket) must not hold a file descriptor for long.
        headersTimeout: handshakeTimeoutMs,
        requestTimeout: Math.min(handshakeTimeoutMs * 2, maxTimerMs),
        connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(handshakeTimeoutMs / 4))),
        keepAliveTimeout: 5_000,
        // Checked by HttpRoutes and the upgrade gate instead, so the 400 carries our headers.
        requireHostHeader: false
      })
      server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
        answerAndClose(socket, { status: clientErrorStatus[error.code ?? ""] ?? 400 })
      })
      server.on("error", (error) => {
        if (server.listening) logServerError(error)
      })
      return server
    })
  )
}
