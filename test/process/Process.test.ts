import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect } from "effect"
import { openEventStream } from "../support/EventStreamClient.js"
import { ensure, eventually } from "../support/Eventually.js"
import { httpUrl, wsUrl } from "../support/LocalUrls.js"
import { consecutive } from "../support/Sequences.js"
import { spawnService, waitForPort } from "../support/ServiceProcess.js"
import { socketIoClient } from "../support/SocketIoClient.js"
import { connect, refusedUpgrade } from "../support/WebSocketClient.js"

describe("the service as a process (npm start, or node dist/main.cjs where a test signals it)", () => {
  it.scopedLive("starts, says where it listens, serves integers, and exits 0 on SIGTERM with clients told 1012", () =>
    Effect.gen(function*() {
      const service = yield* spawnService({ PORT: "0", HOST: "127.0.0.1", FORGE_INTERVAL_MS: "20" }, [], {
        direct: true
      })
      const port = yield* waitForPort(service)
      // First what works right after `npm install`; websocat, which neither npm nor Debian has, last.
      const commands = [
        `curl -N -H 'Accept: text/event-stream' http://127.0.0.1:${port}/_ws/`,
        `npx wscat -c ws://127.0.0.1:${port}/_ws/`,
        `websocat ws://127.0.0.1:${port}/_ws/`
      ]
      const logged = [...service.output().matchAll(/"Try it: ([^"]*)"/g)].map((m) => m[1])
      assert.deepStrictEqual(logged, commands, "the start log's commands")
      const home = yield* Effect.promise(() => fetch(httpUrl(port, "/")).then((r) => r.text()))
      const offered = home.split("\n").filter((line) => line.startsWith("  ")).map((line) => line.trim())
      assert.deepStrictEqual(offered, commands, "the commands GET / gives curl")
      const client = yield* connect(wsUrl(port, "/_ws/"))
      yield* eventually(ensure(() => client.received.length >= 3, "integers"))
      assert.deepStrictEqual(client.received.slice(0, 3), ["1", "2", "3"])
      process.kill(service.pid, "SIGTERM")
      const closed = yield* Deferred.await(client.closed)
      assert.strictEqual(closed.code, 1012)
      const exit = yield* Deferred.await(service.exited).pipe(Effect.timeout(Duration.seconds(10)))
      assert.deepStrictEqual(exit, { code: 0, signal: null })
    }))

  it.scopedLive(
    "npm start serves every transport: plain WebSocket, Socket.IO, an event stream, the health check, refusals",
    () =>
      Effect.gen(function*() {
        const service = yield* spawnService({ PORT: "0", HOST: "127.0.0.1", FORGE_INTERVAL_MS: "20" })
        const port = yield* waitForPort(service)
        const plain = yield* connect(wsUrl(port, "/_ws/"))
        const socketIo = yield* socketIoClient(httpUrl(port, "/"))
        const stream = yield* openEventStream(httpUrl(port, "/_ws/events"))
        yield* eventually(ensure(
          () => plain.received.length >= 5 && socketIo.integers.length >= 5 && stream.ids().length >= 5,
          "integers on every transport"
        ))
        assert.isTrue(consecutive(plain.received.map(Number)), plain.received.join(","))
        assert.isTrue(consecutive(socketIo.integers), socketIo.integers.join(","))
        assert.isTrue(consecutive(stream.ids()), stream.ids().join(","))
        const health = yield* Effect.promise(() => fetch(httpUrl(port, "/cache-healthcheck?")))
        assert.strictEqual(health.status, 200)
        assert.strictEqual(health.headers.get("x-vip-reached-origin"), "true")
        const refused = yield* refusedUpgrade(wsUrl(port, "/elsewhere"))
        assert.strictEqual(refused.status, 404)
        assert.strictEqual(refused.headers["x-vip-reached-origin"], "true")
      })
  )

  it.scopedLive("keeps serving when whoever reads its log goes away (EPIPE on stdout)", () =>
    Effect.gen(function*() {
      const service = yield* spawnService({ PORT: "0", HOST: "127.0.0.1", FORGE_INTERVAL_MS: "20" })
      const port = yield* waitForPort(service)
      service.closeOutput()
      // Each connection writes log lines to the closed pipe.
      for (let i = 0; i < 3; i++) {
        const client = yield* connect(wsUrl(port, "/_ws/"))
        yield* eventually(ensure(() => client.received.length >= 2, "integers"))
        client.ws.close()
        yield* Deferred.await(client.closed)
      }
      const health = yield* Effect.promise(() => fetch(httpUrl(port, "/cache-healthcheck?")))
      assert.strictEqual(health.status, 200)
      assert.isFalse(yield* Deferred.isDone(service.exited), "still running")
    }))

  it.scopedLive("exits 0 on SIGINT", () =>
    Effect.gen(function*() {
      const service = yield* spawnService({ PORT: "0", HOST: "127.0.0.1" }, [], { direct: true })
      yield* waitForPort(service)
      process.kill(service.pid, "SIGINT")
      const exit = yield* Deferred.await(service.exited).pipe(Effect.timeout(Duration.seconds(10)))
      assert.deepStrictEqual(exit, { code: 0, signal: null })
    }))

  for (
    const [variable, value] of [
      ["PORT", "abc"],
      ["PORT", "70000"],
      ["PORT", ""],
      ["PORT", "0x10"],
      ["FORGE_INTERVAL_MS", "3000000000"],
      ["FORGE_INTERVAL_MS", "-5"],
      ["FORGE_INTERVAL_MS", "1.5"],
      ["SHUTDOWN_TIMEOUT_MS", "0"],
      ["HOST", " "],
      ["VIP_REDIS_PRIMARY", "redis.internal"],
      ["VIP_REDIS_PRIMARY", "[::1]:70000"],
      // The logger's own settings, read before anything can be logged.
      ["LOG_LEVEL", "verbose"],
      ["LOG_LEVEL", ""],
      ["LOG_FORMAT", "xml"],
      ["LOG_FORMAT", ""],
      ["LOG_FORMAT", "JSON"]
    ] as const
  ) {
    it.scopedLive(`npm start refuses to start with ${variable}=${JSON.stringify(value)}: one line naming it, exit 1`, () =>
      Effect.gen(function*() {
        const service = yield* spawnService({ PORT: "0", [variable]: value })
        const exit = yield* Deferred.await(service.exited).pipe(Effect.timeout(Duration.seconds(10)))
        assert.deepStrictEqual(exit, { code: 1, signal: null })
        // npm prints its banner, then only what the service says: one line, on stderr.
        const lines = service.log().trim().split("\n")
        assert.strictEqual(lines.length, 1, service.output())
        assert.strictEqual(service.stderr().trim(), lines[0], service.output())
        assert.match(lines[0]!, new RegExp(`^Invalid configuration: .*\\b${variable}\\b`))
      }))
  }
})
