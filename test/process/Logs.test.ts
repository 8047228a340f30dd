import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect } from "effect"
import { ensure, eventually } from "../support/Eventually.js"
import { wsUrl } from "../support/LocalUrls.js"
import { spawnService, waitForPort } from "../support/ServiceProcess.js"
import { connect, refusedUpgrade } from "../support/WebSocketClient.js"

describe("operability", () => {
  it.scopedLive("JSON logs: one valid object per line, with the documented connection fields", () =>
    Effect.gen(function*() {
      const service = yield* spawnService({ PORT: "0", HOST: "127.0.0.1", LOG_FORMAT: "json", FORGE_INTERVAL_MS: "20" })
      const port = yield* waitForPort(service)
      const client = yield* connect(wsUrl(port, "/_ws/logged?secret=token"))
      yield* eventually(ensure(() => client.received.length > 0, "integers"))
      client.ws.close(4002, "done")
      yield* Deferred.await(client.closed)
      for (let i = 0; i < 30; i++) yield* refusedUpgrade(wsUrl(port, "/flood"))
      type LogLine = Record<string, unknown> & { readonly annotations: Record<string, unknown> }
      const lines = () => service.log().trim().split("\n").map((line) => JSON.parse(line) as LogLine)
      yield* eventually(ensure(() => lines().some((l) => l["message"] === "connection closed"), "close logged"))
      for (const line of lines()) {
        assert.containsAllKeys(line, ["message", "logLevel", "timestamp", "annotations"])
      }
      // At the default level a connection is one line, when it closes, and it says everything.
      assert.isUndefined(lines().find((l) => l["message"] === "connection opened"))
      const closed = lines().find((l) => l["message"] === "connection closed")!["annotations"]
      assert.deepInclude(closed, { path: "/_ws/logged", remote: "127.0.0.1", protocol: "plain" })
      assert.strictEqual(closed["code"], 4002)
      assert.strictEqual(closed["closedBy"], "client")
      assert.isNumber(closed["durationMs"])
      assert.notInclude(service.output(), "secret=token", "queries are not logged")
      const refusals = lines().filter((l) => l["message"] === "upgrade refused")
      assert.isAtLeast(refusals.length, 1)
      assert.isAtMost(refusals.length, 3, "a burst of 30 refusals is not 30 lines")
      const perMessage = lines().filter((l) => /^\d+$/.test(String(l["message"])))
      assert.lengthOf(perMessage, 0)
    }))

  it.scopedLive("with TRUST_PROXY_HOPS=1, the logged remote is the address the proxy saw; LOG_LEVEL=debug logs openings", () =>
    Effect.gen(function*() {
      const service = yield* spawnService({
        PORT: "0",
        HOST: "127.0.0.1",
        LOG_FORMAT: "json",
        LOG_LEVEL: "debug",
        TRUST_PROXY_HOPS: "1"
      })
      const port = yield* waitForPort(service)
      yield* connect(wsUrl(port, "/_ws/"), { headers: { "x-forwarded-for": "6.6.6.6, 203.0.113.7" } })
      yield* eventually(ensure(() => service.log().includes("connection opened"), "logged"))
      const opened = service.log().split("\n").find((line) => line.includes("connection opened"))!
      assert.deepStrictEqual(JSON.parse(opened)["annotations"], {
        path: "/_ws/",
        remote: "203.0.113.7",
        protocol: "plain"
      })
      assert.strictEqual(JSON.parse(opened)["logLevel"], "DEBUG")
    }))

  it.scopedLive("a SHUTDOWN_SPREAD_MS above half of SHUTDOWN_TIMEOUT_MS is one warning at start, with the spread used", () =>
    Effect.gen(function*() {
      const warnings = (spreadMs: string) =>
        Effect.gen(function*() {
          const service = yield* spawnService({
            PORT: "0",
            HOST: "127.0.0.1",
            LOG_FORMAT: "json",
            SHUTDOWN_TIMEOUT_MS: "1000",
            SHUTDOWN_SPREAD_MS: spreadMs
          })
          yield* waitForPort(service)
          return service.log().trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>)
            .filter((line) => line["logLevel"] === "WARN")
        }).pipe(Effect.scoped)
      const [capped, ...others] = yield* warnings("800")
      assert.lengthOf(others, 0)
      assert.strictEqual(
        capped?.["message"],
        "SHUTDOWN_SPREAD_MS=800 is above half of SHUTDOWN_TIMEOUT_MS=1000; using 500, " +
          "so that the last closes still have time to be answered"
      )
      assert.lengthOf(yield* warnings("500"), 0, "half is not capped")
    }))
})
