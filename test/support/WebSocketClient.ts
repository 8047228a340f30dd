/**
 * A real `ws` client, as the service's users run, scoped: closing the test's scope terminates it.
 */
import { Deferred, Effect } from "effect"
import { type ClientOptions, WebSocket } from "ws"

export interface Client {
  readonly ws: WebSocket
  /** Every message received, as text, in order. */
  readonly received: Array<string>
  /** Whether any message came as a binary frame (the service sends text only). */
  readonly sawBinary: () => boolean
  /** The headers of the server's 101 Switching Protocols response. */
  readonly upgradeHeaders: () => Record<string, unknown>
  /** Resolves with the close code and reason once the socket closes. */
  readonly closed: Deferred.Deferred<{ readonly code: number; readonly reason: string }>
}

/** A `ws` client connected (open) to the given URL, terminated when the scope closes. */
export const connect = (url: string, options: ClientOptions = {}) =>
  Effect.gen(function*() {
    const ws = yield* Effect.acquireRelease(
      Effect.sync(() => new WebSocket(url, options)),
      (ws) => Effect.sync(() => ws.terminate())
    )
    const received: Array<string> = []
    let binary = false
    let upgradeHeaders: Record<string, unknown> = {}
    ws.on("upgrade", (response) => (upgradeHeaders = response.headers))
    const closed = yield* Deferred.make<{ readonly code: number; readonly reason: string }>()
    ws.on("message", (data, isBinary) => {
      if (isBinary) binary = true
      received.push(String(data))
    })
    ws.on("close", (code, reason) => Deferred.unsafeDone(closed, Effect.succeed({ code, reason: String(reason) })))
    yield* Effect.async<void, Error>((resume) => {
      ws.once("open", () => resume(Effect.void))
      ws.once("error", (error) => resume(Effect.fail(error)))
    })
    ws.on("error", () => {})
    return { ws, received, sawBinary: () => binary, upgradeHeaders: () => upgradeHeaders, closed } satisfies Client
  })

/** The status code of a refused WebSocket handshake, and the response headers. */
export const refusedUpgrade = (url: string, options: ClientOptions = {}) =>
  Effect.async<{ readonly status: number; readonly headers: Record<string, unknown> }, Error>((resume) => {
    const ws = new WebSocket(url, options)
    ws.on("unexpected-response", (_request, response) => {
      resume(Effect.succeed({ status: response.statusCode ?? 0, headers: response.headers }))
      response.resume()
      ws.terminate()
    })
    ws.on("open", () => {
      ws.terminate()
      resume(Effect.fail(new Error(`upgrade to ${url} was accepted`)))
    })
    ws.on("error", () => {})
  })
