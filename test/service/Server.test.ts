import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Fiber } from "effect"
import * as Net from "node:net"
import { ensure, eventually } from "../support/Eventually.js"
import { scrapeMetrics } from "../support/Metrics.js"
import { rawExchange, silentWebSocket, statusOf, upgradeRequest } from "../support/RawSocket.js"
import { restartableServer } from "../support/RestartableServer.js"
import { consecutive } from "../support/Sequences.js"
import { startServer } from "../support/TestServer.js"
import { connect, refusedUpgrade } from "../support/WebSocketClient.js"

describe("Server (end to end)", () => {
  it.scopedLive("answers the health check at once, with the origin header, without starting the forge", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const response = yield* Effect.promise(() => fetch(server.url("/cache-healthcheck?")))
      assert.strictEqual(response.status, 200)
      assert.strictEqual(response.headers.get("x-vip-reached-origin"), "true")
      assert.strictEqual(yield* Effect.promise(() => response.text()), "ok\n")
      const head = yield* Effect.promise(() => fetch(server.url("/cache-healthcheck"), { method: "HEAD" }))
      assert.strictEqual(head.status, 200)
      assert.deepStrictEqual(yield* server.forge.status, { running: false, last: 0, subscribers: 0 })
    }))

  it.scopedLive("serves a text page at /, 404 elsewhere, 400 for plain requests on WebSocket paths", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const get = (path: string) => Effect.promise(() => fetch(server.url(path)))
      const home = yield* get("/")
      assert.strictEqual(home.status, 200)
      assert.include(yield* Effect.promise(() => home.text()), "websocat ws://127.0.0.1:")
      for (const [path, status] of [["/nope", 404], ["/_ws", 404], ["/_ws/", 400], ["/socket.io/bar", 400]] as const) {
        const response = yield* get(path)
        assert.strictEqual(response.status, status, path)
        assert.strictEqual(response.headers.get("x-vip-reached-origin"), "true", path)
        yield* Effect.promise(() => response.text())
      }
    }))

  it.scopedLive("two clients on different allowed paths receive the same integers, as text frames", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20 })
      const a = yield* connect(server.wsUrl("/_ws/"))
      const b = yield* connect(server.wsUrl("/socket.io/bar?x=1"))
      yield* eventually(ensure(() => a.received.length >= 10 && b.received.length >= 10, "ten integers each"))
      assert.isTrue(consecutive(a.received), a.received.join(","))
      assert.isTrue(consecutive(b.received), b.received.join(","))
      // b joined after a, so b's integers are a run of a's, in the same order.
      const start = a.received.indexOf(b.received[0]!)
      assert.isAtLeast(start, 0)
      const common = Math.min(a.received.length - start, b.received.length)
      assert.deepStrictEqual(b.received.slice(0, common), a.received.slice(start, start + common))
      assert.isFalse(a.sawBinary() || b.sawBinary())
      assert.strictEqual(a.upgradeHeaders()["x-vip-reached-origin"], "true")
      assert.match(a.received[0]!, /^[1-9]\d*$/)
    }))

  it.scopedLive("stops the forge when the last client leaves, and continues the sequence when one returns", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20 })
      const first = yield* Effect.scoped(Effect.gen(function*() {
        const a = yield* connect(server.wsUrl("/_ws/"))
        const b = yield* connect(server.wsUrl("/_ws/foo"))
        yield* eventually(ensure(() => a.received.length >= 3 && b.received.length >= 3, "three integers"))
        a.ws.close()
        b.ws.close()
        yield* Deferred.await(a.closed)
        yield* Deferred.await(b.closed)
        return Number(a.received.at(-1))
      }))
      yield* eventually(
        Effect.flatMap(server.forge.status, (s) => ensure(() => !s.running && s.subscribers === 0, "stopped"))
      )
      assert.strictEqual(server.registry.size(), 0)
      const stoppedAt = (yield* server.forge.status).last
      assert.isAtLeast(stoppedAt, first)
      yield* Effect.sleep(Duration.millis(200))
      assert.strictEqual((yield* server.forge.status).last, stoppedAt, "nothing forged while nobody listened")
      const c = yield* connect(server.wsUrl("/_ws/"))
      yield* eventually(ensure(() => c.received.length >= 1, "an integer"))
      assert.strictEqual(Number(c.received[0]), stoppedAt + 1)
    }))

  it.scopedLive("refuses upgrades outside the allowed paths with 404 and the origin header", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      for (
        const path of ["/", "/_ws", "/_wsx/", "/ws/", "/_WS/", "/x/_ws/", "/socket.io", "/%5Fws/", "/_ws/../admin"]
      ) {
        const refused = yield* refusedUpgrade(server.wsUrl(path))
        assert.strictEqual(refused.status, 404, path)
        assert.strictEqual(refused.headers["x-vip-reached-origin"], "true", path)
      }
      assert.strictEqual(server.registry.size(), 0)
    }))

  it.scopedLive("answers each malformed upgrade with its documented status and closes the connection", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const cases: ReadonlyArray<[string, string, number]> = [
        ["POST upgrade", upgradeRequest("/_ws/", {}, "POST"), 400],
        ["HTTP/1.0 upgrade", upgradeRequest("/_ws/", {}, "GET", "1.0"), 400],
        ["Upgrade: h2c", upgradeRequest("/_ws/", { Upgrade: "h2c" }), 400],
        ["no Upgrade header", upgradeRequest("/_ws/", { Upgrade: "" }), 400],
        ["no Connection: upgrade", upgradeRequest("/_ws/", { Connection: "keep-alive" }), 400],
        ["version 8", upgradeRequest("/_ws/", { "Sec-WebSocket-Version": "8" }), 400],
        ["bad key", upgradeRequest("/_ws/", { "Sec-WebSocket-Key": "not-a-key" }), 400],
        ["no key", upgradeRequest("/_ws/", { "Sec-WebSocket-Key": "" }), 400],
        ["outside prefixes", upgradeRequest("/admin"), 404],
        ["upgrade without Host", upgradeRequest("/_ws/", { Host: "" }), 400],
        ["upgrade with a bad Host", upgradeRequest("/_ws/", { Host: "a b" }), 400],
        ["plain request without Host", "GET / HTTP/1.1\r\n\r\n", 400],
        ["plain request with a bad Host", "GET / HTTP/1.1\r\nHost: <x>\r\n\r\n", 400],
        ["header overflow", `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`, 431],
        ["garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400]
      ]
      for (const [what, request, status] of cases) {
        const response = yield* rawExchange(server.port, request)
        assert.strictEqual(statusOf(response), status, `${what}: ${response.slice(0, 80)}`)
        assert.match(response, /x-vip-reached-origin: true/i, what)
      }
      const accepted = yield* rawExchange(server.port, upgradeRequest("/_ws/").replace("\r\n\r\n", "\r\n\r\n"))
        .pipe(Effect.timeout(Duration.millis(300)), Effect.option)
      // A valid upgrade is accepted and stays open, so the exchange does not end by itself.
      assert.strictEqual(accepted._tag, "None")
    }))

  it.scopedLive("answers a handshake ws refuses with our headers and ws's reason, and counts it", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const refusals = () =>
        scrapeMetrics(server.url("/metrics")).pipe(
          Effect.map((read) => read("forge_upgrades_refused_total", { reason: "handshake" }) ?? 0)
        )
      const before = yield* refusals()
      const cases: ReadonlyArray<[string, string, RegExp]> = [
        ["POST", upgradeRequest("/_ws/", {}, "POST"), /method/],
        ["Upgrade: h2c", upgradeRequest("/_ws/", { Upgrade: "h2c" }), /Upgrade/],
        ["bad key", upgradeRequest("/_ws/", { "Sec-WebSocket-Key": "not-a-key" }), /Sec-WebSocket-Key/],
        ["bad subprotocol", upgradeRequest("/_ws/", { "Sec-WebSocket-Protocol": "a b,,c" }), /Sec-WebSocket-Protocol/]
      ]
      for (const [what, request, reason] of cases) {
        const response = yield* rawExchange(server.port, request)
        const [head, body] = response.split("\r\n\r\n")
        assert.strictEqual(statusOf(response), 400, what)
        assert.match(head!, /\r\nx-vip-reached-origin: true(\r\n|$)/, what)
        assert.match(head!, /\r\nx-forge-refusal: handshake(\r\n|$)/, what)
        assert.match(body!, /^Invalid WebSocket handshake: /, what)
        assert.match(body!, reason, what)
      }
      assert.strictEqual((yield* refusals()) - before, cases.length)
      assert.strictEqual(server.registry.size(), 0)
    }))

  it.scopedLive("survives connections reset in the middle of the handshake", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20 })
      const full = upgradeRequest("/_ws/")
      for (let i = 0; i < 40; i++) {
        const cut = Math.floor((full.length * i) / 40)
        yield* Effect.async<void>((resume) => {
          const socket = Net.connect({ port: server.port, host: "127.0.0.1" }, () => {
            socket.write(full.slice(0, cut), () => {
              socket.resetAndDestroy()
              resume(Effect.void)
            })
          })
          socket.on("error", () => {})
        })
      }
      const client = yield* connect(server.wsUrl("/_ws/"))
      yield* eventually(ensure(() => client.received.length >= 2, "integers after the resets"))
      yield* eventually(ensure(() => server.registry.size() === 1, "only the live client registered"))
    }))

  it.scopedLive("reads and discards what clients send", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20 })
      const client = yield* connect(server.wsUrl("/_ws/"))
      for (let i = 0; i < 100; i++) client.ws.send(`hello ${i}`)
      yield* eventually(ensure(() => client.received.length >= 5, "integers while sending"))
      assert.isTrue(consecutive(client.received))
    }))

  it.scopedLive("on shutdown, tells clients to come back (1012), stops the forge and leaves nothing listening", () =>
    Effect.gen(function*() {
      // The clients live in the test's scope, the server in its own, so the server shuts down
      // while the clients are still connected.
      const server = yield* restartableServer({ intervalMs: 20 })
      const clients = yield* Effect.forEach([1, 2, 3], () => connect(server.wsUrl("/_ws/")))
      yield* eventually(ensure(() => clients.every((c) => c.received.length > 0), "integers"))
      yield* server.stop
      for (const client of clients) {
        const closed = yield* Deferred.await(client.closed)
        assert.deepStrictEqual(closed, { code: 1012, reason: "server restarting" })
      }
      const status = yield* server.forge.status
      assert.isFalse(status.running)
      assert.strictEqual(status.subscribers, 0)
      assert.strictEqual(server.registry.size(), 0)
      const refused = yield* Effect.async<boolean>((resume) => {
        const socket = Net.connect({ port: server.port, host: "127.0.0.1" })
        socket.on("connect", () => {
          socket.destroy()
          resume(Effect.succeed(false))
        })
        socket.on("error", () => resume(Effect.succeed(true)))
      })
      assert.isTrue(refused, "the port no longer accepts connections")
    }))

  it.scopedLive("while draining, answers 503 to the health check and to upgrades, and keeps its shutdown deadline", () =>
    Effect.gen(function*() {
      const server = yield* restartableServer({ intervalMs: 20, shutdownTimeoutMs: 1000 })
      // Connected with a fresh HTTP connection per request, so draining answers come from the server.
      const get = (path: string) => Effect.promise(() => fetch(server.url(path), { headers: { connection: "close" } }))
      yield* silentWebSocket(server.port)
      const polite = yield* connect(server.wsUrl("/_ws/"))
      yield* eventually(ensure(() => polite.received.length > 0, "integers"))
      const started = Date.now()
      const closing = yield* Effect.fork(server.stop)
      yield* Deferred.await(polite.closed)
      const health = yield* get("/cache-healthcheck?")
      assert.strictEqual(health.status, 503)
      assert.strictEqual(health.headers.get("x-vip-reached-origin"), "true")
      const refused = yield* refusedUpgrade(server.wsUrl("/_ws/"))
      assert.strictEqual(refused.status, 503)
      yield* Fiber.join(closing)
      const tookMs = Date.now() - started
      // The silent client holds the drain until the deadline (1 s), and not much longer.
      assert.isAtLeast(tookMs, 900)
      assert.isBelow(tookMs, 5000)
      assert.strictEqual(server.registry.size(), 0)
    }))
})
