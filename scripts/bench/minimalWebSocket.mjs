/**
 * A minimal RFC 6455 client on a raw `node:net` socket: the handshake, the server's unmasked
 * frames, pongs and close. It does only what the load generator needs, so that thousands of
 * clients in one process cost little next to the server they measure (the `ws` client would
 * allocate, validate UTF-8 and emit events per message).
 */
import * as Net from "node:net"
import { monotonicMs } from "./clock.mjs"

// The key of RFC 6455's own example. The server only echoes a hash of it, so one fixed key
// spares a random draw per connection; the 101 status is all the generator checks.
const handshakeKey = "dGhlIHNhbXBsZSBub25jZQ=="

// Every socket reads into this one buffer: the callbacks run one at a time on the main thread
// and consume the chunk before returning, so sharing it saves an allocation per read.
const sharedReadBuffer = Buffer.allocUnsafe(256 * 1024)

const opcodes = { text: 0x1, close: 0x8, ping: 0x9, pong: 0xa }

// Client frames must be masked; an all-zero key is a valid key and leaves the payload as is.
const clientFrame = (opcode, payload) =>
  Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length, 0, 0, 0, 0]), payload])

/** The integer in a text payload of decimal digits, or NaN for anything else. */
const parseDecimal = (data, start, end) => {
  if (end === start || end - start > 15) return NaN
  let n = 0
  for (let i = start; i < end; i++) {
    const digit = data[i] - 48
    if (digit < 0 || digit > 9) return NaN
    n = n * 10 + digit
  }
  return n
}

/**
 * Opens one client. `events` receives, with this client as first argument:
 * `open()`, `refused(status)`, `integer(n, receivedAtMs)`, `malformed()`, `closed(code)`,
 * `failed(reason)` (before the handshake completes; called at most once, instead of `open`).
 */
export class MinimalWebSocket {
  /**
   * @param {{ events: any, handshakeTimeoutMs?: number, host: string, localAddress?: string, path: string,
   *   port: number }} options
   */
  constructor({ events, handshakeTimeoutMs = 10_000, host, localAddress, path, port }) {
    this.events = events
    this.state = "connecting"
    this.head = ""
    this.pending = undefined
    this.closeCode = undefined
    this.socket = Net.connect({
      host,
      port,
      ...(localAddress === undefined ? {} : { localAddress }),
      onread: { buffer: sharedReadBuffer, callback: (length, buffer) => this.onBytes(buffer, length) }
    })
    this.socket.setNoDelay(true)
    this.connected = false
    this.socket.on("connect", () => {
      this.connected = true
      this.socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${handshakeKey}\r\nSec-WebSocket-Version: 13\r\n\r\n`
      )
    })
    this.socket.on("error", (error) => this.fail(/** @type {NodeJS.ErrnoException} */ (error).code ?? error.message))
    this.socket.on("close", () => {
      if (this.state === "connecting") this.fail("closed before the handshake")
      else if (this.state === "open") {
        this.state = "closed"
        this.events.closed(this, this.closeCode)
      }
    })
    // Which step ran out of time says where to look: the TCP accept, or the server's answer.
    this.timer = setTimeout(
      () => this.fail(this.connected ? "no 101 in time" : "TCP connect timeout"),
      handshakeTimeoutMs
    )
  }

  fail(reason) {
    if (this.state !== "connecting") return
    this.state = "failed"
    clearTimeout(this.timer)
    this.socket.destroy()
    this.events.failed(this, reason)
  }

  onBytes(buffer, length) {
    if (this.state === "connecting") return this.onHead(buffer, length)
    if (this.state === "open") this.onFrames(buffer, length)
  }

  onHead(buffer, length) {
    this.head += buffer.toString("latin1", 0, length)
    const end = this.head.indexOf("\r\n\r\n")
    if (end < 0) {
      if (this.head.length > 16 * 1024) this.fail("response head too long")
      return
    }
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(this.head)?.[1] ?? NaN)
    if (status !== 101) {
      this.state = "refused"
      clearTimeout(this.timer)
      this.socket.destroy()
      return this.events.refused(this, status)
    }
    this.state = "open"
    clearTimeout(this.timer)
    // Bytes after the head are already frames (an integer may follow the 101 at once).
    const rest = Buffer.from(this.head.slice(end + 4), "latin1")
    this.head = ""
    this.events.open(this)
    if (rest.length > 0) this.onFrames(rest, rest.length)
  }

  onFrames(buffer, length) {
    const receivedAt = monotonicMs()
    let data = buffer
    let stop = length
    if (this.pending !== undefined) {
      data = Buffer.concat([this.pending, buffer.subarray(0, length)])
      stop = data.length
      this.pending = undefined
    }
    let at = 0
    while (at + 2 <= stop && this.state === "open") {
      const opcode = data[at] & 0x0f
      let size = data[at + 1] & 0x7f
      let start = at + 2
      if (size === 126) {
        if (start + 2 > stop) break
        size = data.readUInt16BE(start)
        start += 2
      } else if (size === 127) {
        if (start + 8 > stop) break
        size = Number(data.readBigUInt64BE(start))
        start += 8
      }
      if (start + size > stop) break
      if (opcode === opcodes.text) {
        const n = parseDecimal(data, start, start + size)
        if (Number.isNaN(n)) this.events.malformed(this)
        else this.events.integer(this, n, receivedAt)
      } else if (opcode === opcodes.ping) {
        this.socket.write(clientFrame(opcodes.pong, Buffer.from(data.subarray(start, start + size))))
      } else if (opcode === opcodes.close) {
        this.closeCode = size >= 2 ? data.readUInt16BE(start) : 1005
        this.closeFrameAt = receivedAt
        this.socket.end(clientFrame(opcodes.close, Buffer.from(data.subarray(start, start + Math.min(size, 2)))))
      }
      at = start + size
    }
    // The shared read buffer is reused at the next read: an incomplete frame must be copied.
    if (at < stop && this.state === "open") this.pending = Buffer.from(data.subarray(at, stop))
  }

  /** Drops the connection at once (no close handshake: the benchmark is over). */
  destroy() {
    clearTimeout(this.timer)
    if (this.state === "connecting") this.state = "failed"
    if (this.state === "open") this.state = "closed"
    this.socket.destroy()
  }
}
