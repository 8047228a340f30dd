import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect } from "effect"
import { ensure, eventually } from "../support/Eventually.js"
import { scrapeMetrics } from "../support/Metrics.js"
import { socketIoClient } from "../support/SocketIoClient.js"
import { startServer } from "../support/TestServer.js"
import { connect, refusedUpgrade } from "../support/WebSocketClient.js"

/** A sample not yet counted reads as 0, as it would for the counter's first increment. */
const scrape = (url: string) =>
  scrapeMetrics(url).pipe(
    Effect.map((read) => (name: string, labels: Record<string, string> = {}) => read(name, labels) ?? 0)
  )

describe("operability", () => {
  it.scopedLive("/metrics counts a scripted scenario: connect 3, refuse 2, close 1 with a code", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20 })
      const before = yield* scrape(server.url("/metrics"))
      const a = yield* connect(server.wsUrl("/_ws/"))
      yield* connect(server.wsUrl("/socket.io/bar"))
      const sio = yield* socketIoClient(server.url(""))
      assert.strictEqual((yield* refusedUpgrade(server.wsUrl("/nope"))).status, 404)
      assert.strictEqual((yield* refusedUpgrade(server.wsUrl("/socket.io/?EIO=3&transport=websocket"))).status, 400)
      yield* eventually(ensure(() => a.received.length >= 3 && sio.socket.connected, "all connected and receiving"))
      a.ws.close(4001, "leaving")
      yield* Deferred.await(a.closed)
      yield* eventually(ensure(() => server.registry.size() === 2, "closed socket released"))
      const after = yield* scrape(server.url("/metrics"))
      const delta = (name: string, labels: Record<string, string> = {}) => after(name, labels) - before(name, labels)

      assert.strictEqual(delta("forge_connections_opened_total", { protocol: "plain" }), 2)
      assert.strictEqual(delta("forge_connections_opened_total", { protocol: "socket.io" }), 1)
      assert.strictEqual(after("forge_connections_open", { protocol: "plain" }), 1)
      assert.strictEqual(after("forge_connections_open", { protocol: "socket.io" }), 1)
      assert.strictEqual(delta("forge_upgrades_refused_total", { reason: "path" }), 1)
      assert.strictEqual(delta("forge_upgrades_refused_total", { reason: "engine.io" }), 1)
      assert.strictEqual(delta("forge_connections_closed_total", { code: "4001" }), 1)
      assert.strictEqual(after("forge_running"), 1)
      const current = after("forge_current_integer")
      assert.isAtLeast(current, 3)
      assert.strictEqual(after("forge_integers_forged_total"), current)
      assert.isAtLeast(delta("forge_messages_sent_total"), a.received.length)
      assert.strictEqual(delta("forge_slow_consumer_disconnects_total"), 0)
      // prom-client's default metrics, read as they are (a missing one is not taken for 0).
      const raw = yield* scrapeMetrics(server.url("/metrics"))
      const residentMemory = raw("process_resident_memory_bytes")
      assert.isDefined(residentMemory)
      assert.isAbove(residentMemory!, 10 * 2 ** 20, "a Node.js process holds more than 10 MiB")
      assert.isBelow(residentMemory!, 4 * 2 ** 30)
      const lag = raw("nodejs_eventloop_lag_seconds")
      assert.isDefined(lag)
      assert.isAtLeast(lag!, 0)
      assert.isBelow(lag!, 5, "seconds")
    }))
})
