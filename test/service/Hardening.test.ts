import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect } from "effect"
import { WebSocket } from "ws"
import { ensure, eventually } from "../support/Eventually.js"
import { clientFrame, closeCodeOf, opcodes, serverFrames } from "../support/Frames.js"
import { rawTcp, rawWebSocket, silentWebSocket } from "../support/RawSocket.js"
import { consecutive } from "../support/Sequences.js"
import { startServer } from "../support/TestServer.js"
import { connect, refusedUpgrade } from "../support/WebSocketClient.js"

describe("Hardening", () => {
  it.scopedLive("drops a peer that ignores pings and keeps one that answers them", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20, heartbeatIntervalMs: 100 })
      const silent = yield* silentWebSocket(server.port)
      const polite = yield* connect(server.wsUrl("/_ws/"))
      yield* eventually(ensure(() => server.registry.size() === 2, "both registered"))
      yield* eventually(ensure(() => silent.ended(), "silent peer dropped"))
      yield* eventually(ensure(() => server.registry.size() === 1, "silent peer released"))
      // Pinged (and answering) through several more intervals, the polite client stays.
      yield* Effect.sleep(Duration.millis(400))
      assert.strictEqual(polite.ws.readyState, WebSocket.OPEN)
      assert.strictEqual(server.registry.size(), 1)
      const pings = serverFrames(silent.received()).filter((f) => f.opcode === opcodes.ping)
      assert.isAtLeast(pings.length, 1, "the silent peer was pinged before being dropped")
    }))

  it.scopedLive("closes connections that never finish their handshake", () =>
    Effect.gen(function*() {
      const handshakeTimeoutMs = 300
      const server = yield* startServer({ handshakeTimeoutMs })
      const mute = yield* rawTcp(server.port)
      const partial = yield* rawTcp(server.port)
      partial.socket.write("GET /_ws/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")
      const muteMs = yield* Deferred.await(mute.closed).pipe(Effect.timeout(Duration.seconds(10)))
      const partialMs = yield* Deferred.await(partial.closed).pipe(Effect.timeout(Duration.seconds(10)))
      // Not before the deadline, and soon after it: Node checks every quarter of it (75 ms here).
      assert.isAtLeast(Math.min(muteMs, partialMs), handshakeTimeoutMs - 50)
      const last = Math.max(muteMs, partialMs)
      assert.isAtMost(last, handshakeTimeoutMs + 700, `closed after ${muteMs} and ${partialMs} ms`)
    }))

  it.scopedLive("sheds a client that stops reading, with bounded buffers, while others get every integer", () =>
    Effect.gen(function*() {
      const maxBufferedBytes = 4096
      const server = yield* startServer({ intervalMs: 10, maxBufferedBytes })
      const good = yield* connect(server.wsUrl("/_ws/"))
      const slow = yield* rawWebSocket(server.port)
      yield* eventually(ensure(() => server.registry.size() === 2, "both registered"))
      // The slow client stops reading, then sends pings whose pongs pile up on the server.
      slow.socket.pause()
      const ping = clientFrame({ opcode: opcodes.ping, payload: Buffer.alloc(125, 7) })
      let sent = 0
      const flood = Effect.sync(() => {
        for (let i = 0; i < 2000 && !slow.ended(); i++, sent++) slow.socket.write(ping)
      })
      let maxSeen = 0
      const sample = Effect.sync(() => {
        for (const ws of server.openSockets) maxSeen = Math.max(maxSeen, ws.bufferedAmount)
      })
      yield* Effect.gen(function*() {
        yield* flood
        yield* sample
        yield* Effect.sleep(Duration.millis(5))
      }).pipe(
        Effect.repeat({ until: () => server.registry.size() === 1 }),
        Effect.timeout(Duration.seconds(20))
      )
      const before = good.received.length
      yield* eventually(ensure(() => good.received.length >= before + 20, "the good client keeps receiving"))
      assert.isTrue(consecutive(good.received), "no gap and no repeat for the good client")
      // The bound: the limit, plus at most one pong or integer frame queued past it.
      assert.isAtMost(maxSeen, maxBufferedBytes + 256, `largest unsent backlog seen: ${maxSeen} bytes`)
      assert.isAbove(sent, 0)
      console.log(`slow consumer: ${sent} pings sent, largest server backlog seen ${maxSeen} bytes, shed`)
    }))

  it.scopedLive("closes a socket that sends a message over the payload limit with 1009", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ maxPayloadBytes: 1024 })
      const client = yield* connect(server.wsUrl("/_ws/"))
      client.ws.send("x".repeat(2000))
      const closed = yield* Deferred.await(client.closed)
      assert.strictEqual(closed.code, 1009)
      yield* eventually(ensure(() => server.registry.size() === 0, "released"))
    }))

  it.scopedLive("refuses upgrades beyond MAX_CONNECTIONS with 503, leaving existing clients alone", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20, maxConnections: 2 })
      const a = yield* connect(server.wsUrl("/_ws/"))
      const b = yield* connect(server.wsUrl("/_ws/"))
      const refused = yield* refusedUpgrade(server.wsUrl("/_ws/"))
      assert.strictEqual(refused.status, 503)
      const countBefore = a.received.length
      yield* eventually(ensure(() => a.received.length > countBefore + 2 && b.received.length > 2, "still served"))
      b.ws.close()
      yield* Deferred.await(b.closed)
      yield* eventually(ensure(() => server.registry.size() === 1, "b released"))
      yield* connect(server.wsUrl("/_ws/"))
    }))

  it.scopedLive("with ALLOWED_ORIGINS, refuses other browser origins with 403", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ allowedOrigins: ["https://good.example"] })
      const refused = yield* refusedUpgrade(server.wsUrl("/_ws/"), { origin: "https://evil.example" })
      assert.strictEqual(refused.status, 403)
      yield* connect(server.wsUrl("/_ws/"), { origin: "https://GOOD.example" })
      // Non-browser clients send no Origin and are not what the list protects against.
      yield* connect(server.wsUrl("/_ws/"))
      // The service's own page is same-origin, whatever the list says.
      yield* connect(server.wsUrl("/_ws/"), { origin: `http://127.0.0.1:${server.port}` })
      const otherPort = yield* refusedUpgrade(server.wsUrl("/_ws/"), { origin: `http://127.0.0.1:${server.port + 1}` })
      assert.strictEqual(otherPort.status, 403)
    }))

  const violations: ReadonlyArray<[string, Buffer, number]> = [
    ["invalid UTF-8 in a text frame", clientFrame({ opcode: opcodes.text, payload: Buffer.from([0xc3, 0x28]) }), 1007],
    ["an unmasked client frame", clientFrame({ opcode: opcodes.text, payload: Buffer.from("hi"), mask: false }), 1002],
    ["a reserved opcode", clientFrame({ opcode: 0x3, payload: Buffer.from("x") }), 1002],
    ["a fragmented control frame", clientFrame({ opcode: opcodes.ping, fin: false }), 1002],
    [
      "reserved bits without an extension",
      clientFrame({ opcode: opcodes.text, rsv: 4, payload: Buffer.from("x") }),
      1002
    ]
  ]
  for (const [what, frame, code] of violations) {
    it.scopedLive(`answers ${what} with close code ${code} and releases the socket`, () =>
      Effect.gen(function*() {
        const server = yield* startServer()
        const raw = yield* rawWebSocket(server.port)
        yield* eventually(ensure(() => server.openSockets.size === 1, "accepted"))
        const serverSide = [...server.connections.open][0]!
        raw.socket.write(frame)
        yield* eventually(ensure(() => closeCodeOf(serverFrames(raw.received())) !== undefined, "a close frame"))
        assert.strictEqual(closeCodeOf(serverFrames(raw.received())), code)
        yield* eventually(ensure(() => server.registry.size() === 0, "released"))
        assert.strictEqual(serverSide.closeReason, "protocol-error", "logged as closed by the server")
      }))
  }
})
