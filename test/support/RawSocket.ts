/**
 * Raw TCP clients, for what no well-behaved client library would send or leave undone: malformed
 * requests, half handshakes, unanswered pings. Everything scoped is destroyed with the scope.
 */
import { Deferred, Effect, FiberId } from "effect"
import * as Net from "node:net"

/** A TCP connection that does only what the test writes, and records what comes back. */
export interface RawTcp {
  readonly socket: Net.Socket
  /** Everything the server sent so far. */
  readonly received: () => Buffer
  /** Whether the server has closed or reset the connection. */
  readonly ended: () => boolean
  /** Done when the connection closes, with how long after it was opened, in milliseconds. */
  readonly closed: Deferred.Deferred<number>
}

/** The one raw TCP client of the tests: connected to the server, destroyed when the scope closes. */
export const rawTcp = (port: number) =>
  Effect.acquireRelease(
    Effect.async<RawTcp, Error>((resume) => {
      const socket = Net.connect({ port, host: "127.0.0.1" })
      const opened = Date.now()
      const closed = Deferred.unsafeMake<number>(FiberId.none)
      let received = Buffer.alloc(0)
      let ended = false
      socket.on("data", (chunk: Buffer) => (received = Buffer.concat([received, chunk])))
      socket.on("close", () => {
        ended = true
        Deferred.unsafeDone(closed, Effect.succeed(Date.now() - opened))
      })
      socket.on("error", (error) => resume(Effect.fail(error)))
      socket.once("connect", () =>
        resume(Effect.succeed({ socket, received: () => received, ended: () => ended, closed })))
    }),
    ({ socket }) =>
      Effect.sync(() => socket.destroy())
  )

/** Sends raw bytes on a fresh TCP connection and returns everything the server answered. */
export const rawExchange = (port: number, request: string | Buffer) =>
  Effect.scoped(Effect.gen(function*() {
    const tcp = yield* rawTcp(port)
    tcp.socket.setTimeout(5000, () => tcp.socket.destroy())
    tcp.socket.write(request)
    yield* Deferred.await(tcp.closed)
    return tcp.received().toString("latin1")
  }))

/** The status code of the first response line of a raw exchange. */
export const statusOf = (response: string): number => Number(/^HTTP\/1\.1 (\d{3}) /.exec(response)?.[1] ?? 0)

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
  Effect.gen(function*() {
    const tcp = yield* rawTcp(port)
    tcp.socket.write(upgradeRequest(path, headers))
    const headEnd = yield* Effect.async<number, Error>((resume) => {
      const check = () => {
        const end = tcp.received().indexOf("\r\n\r\n")
        if (end !== -1) {
          tcp.socket.off("data", check)
          const status = statusOf(tcp.received().subarray(0, end).toString("latin1"))
          resume(status === 101 ? Effect.succeed(end + 4) : Effect.fail(new Error(`handshake refused with ${status}`)))
        } else if (tcp.ended()) resume(Effect.fail(new Error("closed during the handshake")))
      }
      // After rawTcp's own listener, which has recorded the chunk by then.
      tcp.socket.on("data", check)
      tcp.socket.once("close", check)
    })
    return {
      socket: tcp.socket,
      received: () => tcp.received().subarray(headEnd),
      ended: tcp.ended
    } satisfies RawWebSocket
  })

/** A raw client that completes the handshake and then stays silent (no pong, no close reply). */
export const silentWebSocket = (port: number, path = "/_ws/") => rawWebSocket(port, path)
