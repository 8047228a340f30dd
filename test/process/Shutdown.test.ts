import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect } from "effect"
import { ensure, eventually } from "../support/Eventually.js"
import { wsUrl } from "../support/LocalUrls.js"
import { silentWebSocket } from "../support/RawSocket.js"
import { spawnService, waitForPort } from "../support/ServiceProcess.js"
import { connect } from "../support/WebSocketClient.js"

describe("shutdown of the service process", () => {
  it.scopedLive("SIGTERM: 50 clients all see 1012, and the process exits 0 well within the deadline", () =>
    Effect.gen(function*() {
      const service = yield* spawnService({
        PORT: "0",
        HOST: "127.0.0.1",
        FORGE_INTERVAL_MS: "50",
        SHUTDOWN_TIMEOUT_MS: "3000"
      })
      const port = yield* waitForPort(service)
      const clients = yield* Effect.forEach(
        Array.from({ length: 50 }),
        () => connect(wsUrl(port, "/_ws/")),
        { concurrency: 10 }
      )
      yield* eventually(ensure(() => clients.every((c) => c.received.length > 0), "every client has integers"))
      const signalled = Date.now()
      process.kill(service.pid, "SIGTERM")
      const codes = yield* Effect.forEach(clients, (c) => Deferred.await(c.closed))
      assert.deepStrictEqual(new Set(codes.map((c) => c.code)), new Set([1012]))
      const exit = yield* Deferred.await(service.exited).pipe(Effect.timeout(Duration.seconds(10)))
      const tookMs = Date.now() - signalled
      assert.deepStrictEqual(exit, { code: 0, signal: null })
      assert.isBelow(tookMs, 3000, "polite clients answer at once, so shutdown does not wait for the deadline")
      console.log(`shutdown with 50 polite clients: exit 0 after ${tookMs} ms`)
    }))

  it.scopedLive("SIGTERM with a client that never answers the close handshake: exit 0 by the deadline", () =>
    Effect.gen(function*() {
      const service = yield* spawnService({
        PORT: "0",
        HOST: "127.0.0.1",
        FORGE_INTERVAL_MS: "50",
        SHUTDOWN_TIMEOUT_MS: "1000"
      })
      const port = yield* waitForPort(service)
      yield* silentWebSocket(port)
      const polite = yield* connect(wsUrl(port, "/_ws/"))
      yield* eventually(ensure(() => polite.received.length > 0, "integers"))
      const signalled = Date.now()
      process.kill(service.pid, "SIGTERM")
      const exit = yield* Deferred.await(service.exited).pipe(Effect.timeout(Duration.seconds(10)))
      const tookMs = Date.now() - signalled
      assert.deepStrictEqual(exit, { code: 0, signal: null })
      assert.strictEqual((yield* Deferred.await(polite.closed)).code, 1012)
      assert.isAtLeast(tookMs, 900, "the silent client holds shutdown until the deadline")
      assert.isBelow(tookMs, 4000, "and not much longer")
      console.log(`shutdown with a silent client, SHUTDOWN_TIMEOUT_MS=1000: exit 0 after ${tookMs} ms`)
    }))
})
