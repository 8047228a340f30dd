/**
 * The one Node HTTP server of the process. Routes and the WebSocket edge attach their listeners
 * to it; `Listener` makes it listen once they have. Its own release is the last step of shutdown:
 * by then the sockets are gone, and it waits for the remaining HTTP connections to end.
 */
import { Cause, Context, Effect, Layer, Runtime } from "effect"
import * as Http from "node:http"
import type { Duplex } from "node:stream"
import { ServerConfig } from "../Config.js"
import { originHeaders } from "../wire/Handshake.js"

// Node answers a request it cannot parse by itself, without our headers; we answer instead so
// that even those responses say they reached the origin.
const clientErrorStatus = (error: NodeJS.ErrnoException): number => {
  switch (error.code) {
    case "HPE_HEADER_OVERFLOW":
      return 431
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return 408
    default:
      return 400
  }
}

const answerClientError = (error: NodeJS.ErrnoException, socket: Duplex) => {
  if (!socket.writable || socket.writableEnded) return socket.destroy()
  const status = clientErrorStatus(error)
  const extra = Object.entries(originHeaders).map(([name, value]) => `${name}: ${value}\r\n`).join("")
  socket.once("finish", () => socket.destroy())
  socket.end(
    `HTTP/1.1 ${status} ${Http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n${extra}\r\n`
  )
}

export class NodeServer extends Context.Tag("IntegerForge/NodeServer")<NodeServer, Http.Server>() {
  static readonly layer = Layer.scoped(
    NodeServer,
    Effect.gen(function*() {
      const runtime = yield* Effect.runtime<never>()
      const { handshakeTimeoutMs } = yield* ServerConfig
      // Accept failures (EMFILE when descriptors run out) come as a storm; one line a second
      // says what is happening without flooding the log.
      let lastLogged = 0
      let suppressed = 0
      const logServerError = (error: Error) => {
        const now = Date.now()
        if (now - lastLogged < 1000) return void suppressed++
        const note = suppressed > 0 ? ` (${suppressed} more suppressed)` : ""
        lastLogged = now
        suppressed = 0
        Runtime.runFork(runtime)(Effect.logError(`HTTP server error${note}; still serving`, Cause.fail(error)))
      }
      return yield* Effect.acquireRelease(
        Effect.sync(() => {
          const server = Http.createServer({
            // A client that opens a connection and never finishes its request head (the
            // handshake, for a WebSocket) must not hold a file descriptor for long.
            headersTimeout: handshakeTimeoutMs,
            requestTimeout: Math.min(handshakeTimeoutMs * 2, 2_147_483_647),
            connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(handshakeTimeoutMs / 4))),
            keepAliveTimeout: 5_000,
            // Checked by HttpRoutes and the upgrade gate instead, so the 400 carries our headers.
            requireHostHeader: false
          })
          server.on("clientError", answerClientError)
          server.on("error", (error) => {
            if (server.listening) logServerError(error)
          })
          return server
        }),
        (server) =>
          Effect.async<void>((resume) => {
            if (!server.listening) return resume(Effect.void)
            server.close(() => resume(Effect.void))
            server.closeAllConnections()
          })
      )
    })
  )
}
