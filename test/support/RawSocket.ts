/**
 * Raw TCP clients, for what no well-behaved client library would send or leave undone: malformed
 * requests, half handshakes, unanswered pings. Everything scoped is destroyed with the scope.
 */
import { Effect } from "effect"
import * as Net from "node:net"

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
