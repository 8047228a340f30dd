import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, FastCheck as fc } from "effect"
import parsePrometheusTextFormat from "parse-prometheus-text-format"
import { io } from "socket.io-client"
import { WebSocket } from "ws"
import { clientAddress } from "../../src/edge/ClientAddress.js"
import { spawnService, waitForPort } from "../support/ServiceProcess.js"
import { connect, ensure, eventually, refusedUpgrade, startServer } from "../support/TestServer.js"

/** Scrapes /metrics and reads it with a Prometheus text-format parser. */
const scrape = (url: string) =>
  Effect.promise(async () => {
    const response = await fetch(url)
    assert.strictEqual(response.status, 200)
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/)
    const families = parsePrometheusTextFormat(await response.text())
    return (name: string, labels: Record<string, string> = {}): number => {
      const family = families.find((f) => f.name === name)
      const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
      return sample === undefined ? 0 : Number(sample.value)
    }
  })

describe("operability", () => {
  it.live("/metrics counts a scripted scenario: connect 3, refuse 2, close 1 with a code", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20 })
      const before = yield* scrape(server.url("/metrics"))
      const a = yield* connect(server.wsUrl("/_ws/"))
      yield* connect(server.wsUrl("/socket.io/bar"))
      const sio = yield* Effect.acquireRelease(
        Effect.sync(() => io(server.url(""), { transports: ["websocket"], forceNew: true })),
        (s) => Effect.sync(() => s.close())
      )
      assert.strictEqual((yield* refusedUpgrade(server.wsUrl("/nope"))).status, 404)
      assert.strictEqual((yield* refusedUpgrade(server.wsUrl("/socket.io/?EIO=3&transport=websocket"))).status, 400)
      yield* eventually(ensure(() => a.received.length >= 3 && sio.connected, "all connected and receiving"))
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
      assert.isAbove(after("nodejs_eventloop_lag_seconds") + after("process_resident_memory_bytes"), 0)
    }).pipe(Effect.scoped))

  it.live("JSON logs: one valid object per line, with the documented connection fields", () =>
    Effect.gen(function*() {
      const service = yield* spawnService({ PORT: "0", HOST: "127.0.0.1", LOG_FORMAT: "json", FORGE_INTERVAL_MS: "20" })
      const port = yield* waitForPort(service)
      const client = yield* connect(`ws://127.0.0.1:${port}/_ws/logged?secret=token`)
      yield* eventually(ensure(() => client.received.length > 0, "integers"))
      client.ws.close(4002, "done")
      yield* Deferred.await(client.closed)
      for (let i = 0; i < 30; i++) yield* refusedUpgrade(`ws://127.0.0.1:${port}/flood`)
      type LogLine = Record<string, unknown> & { readonly annotations: Record<string, unknown> }
      const lines = () => service.output().trim().split("\n").map((line) => JSON.parse(line) as LogLine)
      yield* eventually(ensure(() => lines().some((l) => l["message"] === "connection closed"), "close logged"))
      for (const line of lines()) {
        assert.containsAllKeys(line, ["message", "logLevel", "timestamp", "annotations"])
      }
      const opened = lines().find((l) => l["message"] === "connection opened")!
      assert.deepStrictEqual(opened["annotations"], { path: "/_ws/logged", remote: "127.0.0.1", protocol: "plain" })
      const closed = lines().find((l) => l["message"] === "connection closed")!["annotations"]
      assert.strictEqual(closed["code"], 4002)
      assert.strictEqual(closed["closedBy"], "client")
      assert.isNumber(closed["durationMs"])
      assert.notInclude(service.output(), "secret=token", "queries are not logged")
      const refusals = lines().filter((l) => l["message"] === "upgrade refused")
      assert.isAtLeast(refusals.length, 1)
      assert.isAtMost(refusals.length, 3, "a burst of 30 refusals is not 30 lines")
      const perMessage = lines().filter((l) => /^\d+$/.test(String(l["message"])))
      assert.lengthOf(perMessage, 0)
    }).pipe(Effect.scoped))

  it.live("with TRUST_PROXY_HOPS=1, the logged remote is the address the proxy saw", () =>
    Effect.gen(function*() {
      const service = yield* spawnService({ PORT: "0", HOST: "127.0.0.1", LOG_FORMAT: "json", TRUST_PROXY_HOPS: "1" })
      const port = yield* waitForPort(service)
      yield* Effect.acquireRelease(
        Effect.async<WebSocket, Error>((resume) => {
          const ws = new WebSocket(`ws://127.0.0.1:${port}/_ws/`, {
            headers: { "x-forwarded-for": "6.6.6.6, 203.0.113.7" }
          })
          ws.on("open", () => resume(Effect.succeed(ws)))
          ws.on("error", (e) => resume(Effect.fail(e)))
        }),
        (ws) => Effect.sync(() => ws.terminate())
      )
      yield* eventually(ensure(() => service.output().includes("connection opened"), "logged"))
      assert.include(service.output(), "\"remote\":\"203.0.113.7\"")
    }).pipe(Effect.scoped))

  it.prop("the client address is the entry the last trusted proxy appended after, never a forged one", [
    fc.array(fc.ipV4(), { maxLength: 5 }),
    fc.integer({ min: 0, max: 6 }),
    fc.ipV4()
  ], ([chain, hops, peer]) => {
    const result = clientAddress(peer, chain.length === 0 ? undefined : chain.join(", "), hops)
    if (hops === 0 || chain.length === 0) assert.strictEqual(result, peer)
    else if (chain.length >= hops) assert.strictEqual(result, chain[chain.length - hops])
    else assert.strictEqual(result, chain[0])
  })
})
