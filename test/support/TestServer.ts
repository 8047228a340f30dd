/**
 * The real service on an ephemeral port, for end-to-end tests, and real clients to talk to it.
 * Everything here is scoped: closing the test's scope stops the clients, then the server.
 */
import { type Context, Deferred, Duration, Effect, Layer, Logger, LogLevel, Schedule } from "effect"
import * as Net from "node:net"
import { WebSocket } from "ws"
import { ServerLive } from "../../src/App.js"
import { ForgeConfig, ServerConfig } from "../../src/Config.js"
import { OpenSockets } from "../../src/edge/OpenSockets.js"
import { SocketRegistry } from "../../src/fanout/SocketRegistry.js"
import { IntegerForge } from "../../src/forge/IntegerForge.js"
import { ListeningAddress } from "../../src/http/Listener.js"

export type TestServerOptions =
  & { readonly intervalMs?: number; readonly replayCapacity?: number }
  & Partial<Context.Tag.Service<ServerConfig>>

/** Starts the whole service on 127.0.0.1 and a free port, for the life of the caller's scope. */
export const startServer = ({ intervalMs = 20, replayCapacity = 1000, ...server }: TestServerOptions = {}) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(ServerLive.pipe(Layer.provide([
      ForgeConfig.make(intervalMs, 1024, replayCapacity),
      ServerConfig.make(server)
    ]))).pipe(
      // One line per connection would bury the test report; warnings and errors still show.
      Logger.withMinimumLogLevel(LogLevel.Warning)
    )
    const address = yield* Effect.provide(ListeningAddress, context)
    const forge = yield* Effect.provide(IntegerForge, context)
    const registry = yield* Effect.provide(SocketRegistry, context)
    const openSockets = yield* Effect.provide(OpenSockets, context)
    return {
      port: address.port,
      url: (path: string) => `http://127.0.0.1:${address.port}${path}`,
      wsUrl: (path: string) => `ws://127.0.0.1:${address.port}${path}`,
      forge,
      registry,
      openSockets
    }
  })

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
export const connect = (url: string) =>
  Effect.gen(function*() {
    const ws = yield* Effect.acquireRelease(
      Effect.sync(() => new WebSocket(url)),
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
export const refusedUpgrade = (url: string) =>
  Effect.async<{ readonly status: number; readonly headers: Record<string, unknown> }, Error>((resume) => {
    const ws = new WebSocket(url)
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

/** Sends raw bytes on a fresh TCP connection and returns everything the server answered. */
export const rawExchange = (port: number, request: string | Buffer) =>
  Effect.async<string, Error>((resume) => {
    const socket = Net.connect({ port, host: "127.0.0.1" })
    const chunks: Array<Buffer> = []
    socket.on("data", (chunk) => chunks.push(chunk))
    socket.on("error", () => {})
    socket.on("close", () => resume(Effect.succeed(Buffer.concat(chunks).toString("latin1"))))
    socket.setTimeout(5000, () => socket.destroy())
    socket.write(request)
    return Effect.sync(() => socket.destroy())
  })

/** The status code of the first response line of a raw exchange. */
export const statusOf = (response: string): number => Number(/^HTTP\/1\.1 (\d{3}) /.exec(response)?.[1] ?? 0)

/** Polls a condition until it holds, failing after a generous bound (these are end-to-end tests). */
export const eventually = <A>(check: Effect.Effect<A, Error>, within = Duration.seconds(5)) =>
  check.pipe(
    Effect.retry(Schedule.spaced(Duration.millis(10))),
    Effect.timeoutFail({ duration: within, onTimeout: () => new Error("condition did not hold in time") })
  )

/** Fails (for `eventually`) unless the predicate holds when the effect runs. */
export const ensure = (ok: () => boolean, what: string): Effect.Effect<void, Error> =>
  Effect.suspend(() => ok() ? Effect.void : Effect.fail(new Error(what)))

/** A well-formed upgrade request for a raw socket. */
export const upgradeRequest = (path: string, extra: Record<string, string> = {}, method = "GET", version = "1.1") => {
  const headers: Record<string, string> = {
    Host: "127.0.0.1",
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    ...extra
  }
  const lines = Object.entries(headers).filter(([, v]) => v !== "").map(([k, v]) => `${k}: ${v}`)
  return `${method} ${path} HTTP/${version}\r\n${lines.join("\r\n")}\r\n\r\n`
}

export interface RawWebSocket {
  readonly socket: Net.Socket
  /** Everything the server sent after its 101 response. */
  readonly received: () => Buffer
  /** Whether the server has closed or reset the TCP connection. */
  readonly ended: () => boolean
}

/**
 * A raw TCP client that completes a WebSocket handshake and then does only what the test makes
 * it do: by itself it answers no ping and no close frame. Destroyed when the scope closes.
 */
export const rawWebSocket = (port: number, path = "/_ws/", headers: Record<string, string> = {}) =>
  Effect.acquireRelease(
    Effect.async<RawWebSocket, Error>((resume) => {
      const socket = Net.connect({ port, host: "127.0.0.1" })
      let head = Buffer.alloc(0)
      let body = Buffer.alloc(0)
      let upgraded = false
      let ended = false
      const raw: RawWebSocket = { socket, received: () => body, ended: () => ended }
      socket.on("data", (chunk: Buffer) => {
        if (upgraded) return void (body = Buffer.concat([body, chunk]))
        head = Buffer.concat([head, chunk])
        const end = head.indexOf("\r\n\r\n")
        if (end === -1) return
        upgraded = true
        body = head.subarray(end + 4)
        const status = statusOf(head.subarray(0, end).toString("latin1"))
        if (status === 101) resume(Effect.succeed(raw))
        else resume(Effect.fail(new Error(`handshake refused with ${status}`)))
      })
      socket.on("close", () => (ended = true))
      socket.on("error", (error) => {
        ended = true
        resume(Effect.fail(error))
      })
      socket.write(upgradeRequest(path, headers))
    }),
    ({ socket }) => Effect.sync(() => socket.destroy())
  )

/** A raw client that completes the handshake and then stays silent (no pong, no close reply). */
export const silentWebSocket = (port: number, path = "/_ws/") => rawWebSocket(port, path)
