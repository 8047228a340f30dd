/**
 * The fan-out writes each integer's frame, built once, to the TCP socket under the WebSocket,
 * beside ws's own writes on that socket: the pongs a client asks for, the heartbeat's pings, the
 * close frame. A raw client reads everything the server sends strictly, frame by frame: a write
 * of ws's inside one of ours, or ours inside one of ws's, breaks the stream here. ws is a caret
 * range in package.json, so this is what says so if a release of ws ever writes a frame in pieces.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, FiberId } from "effect"
import { ensure, eventually } from "../support/Eventually.js"
import { clientFrame, opcodes } from "../support/Frames.js"
import { rawWebSocket } from "../support/RawSocket.js"
import { consecutive } from "../support/Sequences.js"
import { startServer } from "../support/TestServer.js"

/** One server frame read strictly: FIN, no RSV bits, unmasked, a known opcode. */
const readFrame = (data: Buffer, at: number) => {
  if (at + 2 > data.length) return undefined
  const first = data[at]!
  const opcode = first & 0x0f
  assert.strictEqual(first & 0xf0, 0x80, `FIN and no RSV bits at byte ${at}: ${first.toString(16)}`)
  assert.include([opcodes.text, opcodes.close, opcodes.ping, opcodes.pong], opcode, `opcode at byte ${at}`)
  assert.strictEqual(data[at + 1]! & 0x80, 0, "server frames are not masked")
  let length = data[at + 1]! & 0x7f
  let start = at + 2
  if (length === 126) {
    if (start + 2 > data.length) return undefined
    length = data.readUInt16BE(start)
    start += 2
  } else assert.isBelow(length, 127, "no frame here is that long")
  if (start + length > data.length) return undefined
  return { opcode, payload: data.subarray(start, start + length), next: start + length }
}

describe("the fan-out's frame path beside ws's own writes", () => {
  it.scopedLive("under fan-out load, with pongs, heartbeat pings and a close, every frame arrives whole", () =>
    Effect.gen(function*() {
      // A ping not answered within one heartbeat cuts the socket off: 200 ms leaves room for a
      // busy machine, with several heartbeats still inside the run.
      const server = yield* startServer({ intervalMs: 1, heartbeatIntervalMs: 200 })
      const raw = yield* rawWebSocket(server.port)
      const integers: Array<number> = []
      const pongs: Array<string> = []
      let serverPings = 0
      let closeCode: number | undefined
      let at = 0
      const closed = Deferred.unsafeMake<void>(FiberId.none)
      // Reads what has arrived, answering the heartbeat's pings so that it keeps the socket.
      const read = () => {
        const data = raw.received()
        for (let frame = readFrame(data, at); frame !== undefined; frame = readFrame(data, at)) {
          assert.isUndefined(closeCode, "nothing after the close frame")
          at = frame.next
          const text = frame.payload.toString("latin1")
          if (frame.opcode === opcodes.text) integers.push(Number(text))
          else if (frame.opcode === opcodes.pong) pongs.push(text)
          else if (frame.opcode === opcodes.ping) {
            serverPings++
            raw.socket.write(clientFrame({ opcode: opcodes.pong, payload: frame.payload }))
          } else {
            closeCode = frame.payload.readUInt16BE(0)
            Deferred.unsafeDone(closed, Effect.void)
          }
        }
      }
      raw.socket.on("data", read)
      // Pings of every payload length a control frame may have, many of them while integers flow.
      const sent: Array<string> = []
      for (let round = 0; round < 40; round++) {
        for (let i = 0; i < 10; i++) {
          const payload = `${round}-${i}-`.padEnd(((round * 10 + i) % 120) + 6, "x")
          sent.push(payload)
          raw.socket.write(clientFrame({ opcode: opcodes.ping, payload: Buffer.from(payload) }))
        }
        yield* Effect.sleep(Duration.millis(5))
      }
      yield* eventually(ensure(() => pongs.length === sent.length && serverPings >= 2, "pongs and heartbeat pings"))
      const payload = Buffer.alloc(2)
      payload.writeUInt16BE(1000)
      raw.socket.write(clientFrame({ opcode: opcodes.close, payload }))
      yield* Deferred.await(closed).pipe(Effect.timeout(Duration.seconds(5)))
      read()
      assert.strictEqual(at, raw.received().length, "every byte is part of a whole frame")
      assert.deepStrictEqual(pongs, sent, "every ping answered, in order")
      assert.strictEqual(closeCode, 1000)
      assert.isAtLeast(integers.length, 50)
      assert.isTrue(consecutive(integers), integers.join(","))
    }))
})
