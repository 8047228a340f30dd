import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect } from "effect"
import { WebSocket } from "ws"
import { ensure, eventually } from "../support/Eventually.js"
import { httpUrl, wsUrl } from "../support/LocalUrls.js"
import { refusesConnections } from "../support/Ports.js"
import { silentWebSocket } from "../support/RawSocket.js"
import { freePort } from "../support/RedisServer.js"
import { spawnService, waitForPort } from "../support/ServiceProcess.js"
import { connect } from "../support/WebSocketClient.js"

type Comeback = "503 draining, retry at once, from the origin" | "refused" | string

/** One immediate reconnect, as a client told 1012 makes: what did it get? */
const comeBack = (url: string) =>
  Effect.async<Comeback>((resume) => {
    const ws = new WebSocket(url)
    ws.on("unexpected-response", (_request, response) => {
      const { headers } = response
      const ours = headers["x-vip-reached-origin"] === "true"
      const drains = headers["x-forge-refusal"] === "draining" && headers["retry-after"] === "0"
      resume(Effect.succeed(
        response.statusCode === 503 && ours && drains
          ? "503 draining, retry at once, from the origin"
          : `HTTP ${response.statusCode} ${JSON.stringify(headers)}`
      ))
      ws.terminate()
    })
    ws.on("open", () => {
      resume(Effect.succeed("accepted while draining"))
      ws.terminate()
    })
    ws.on("error", (error: NodeJS.ErrnoException) => {
      resume(Effect.succeed(error.code === "ECONNREFUSED" ? "refused" : `error ${error.code ?? error.message}`))
    })
    return Effect.sync(() => ws.terminate())
  })

describe("shutdown of the service process", () => {
  it.scopedLive(
    "SIGTERM to npm start's PID: 200 clients get 1012 spread out, come straight back to a 503 or a refused connection, never a reset, and nothing is left running",
    () =>
      Effect.gen(function*() {
        const port = yield* freePort
        const service = yield* spawnService(
          {
            PORT: String(port),
            HOST: "127.0.0.1",
            FORGE_INTERVAL_MS: "50",
            SHUTDOWN_TIMEOUT_MS: "3000",
            SHUTDOWN_SPREAD_MS: "500"
          }
        )
        yield* waitForPort(service)
        const url = wsUrl(port, "/_ws/")
        const clients = yield* Effect.forEach(Array.from({ length: 200 }), () => connect(url), { concurrency: 20 })
        yield* eventually(ensure(() => clients.every((c) => c.received.length > 0), "every client has integers"))
        const signalled = Date.now()
        // What a container runtime does: the signal goes to the process it started, npm.
        process.kill(service.pid, "SIGTERM")
        const outcomes = yield* Effect.forEach(clients, (c) =>
          Deferred.await(c.closed).pipe(
            Effect.map(({ code }) => ({ code, at: Date.now() - signalled })),
            Effect.zip(comeBack(url))
          ), { concurrency: "unbounded" })
        const exit = yield* Deferred.await(service.exited).pipe(Effect.timeout(Duration.seconds(10)))
        assert.deepStrictEqual(exit, { code: 0, signal: null }, service.output())
        assert.deepStrictEqual(new Set(outcomes.map(([closed]) => closed.code)), new Set([1012]))
        const comebacks = outcomes.map(([, comeback]) => comeback)
        const tally = Object.fromEntries(
          [...new Set(comebacks)].map((c) => [c, comebacks.filter((x) => x === c).length])
        )
        console.log(`200 clients back at once after 1012: ${JSON.stringify(tally)}`)
        for (const comeback of comebacks) {
          assert.include(["503 draining, retry at once, from the origin", "refused"], comeback)
        }
        const closedAt = outcomes.map(([closed]) => closed.at).sort((a, b) => a - b)
        assert.isAbove(closedAt.at(-1)! - closedAt[0]!, 200, "the closes are spread out, not one wave")
        assert.isTrue(yield* refusesConnections(port), "npm exited and the service with it: nothing listens")
      }),
    30_000
  )

  it.scopedLive("SIGTERM: 50 clients all see 1012, and the process exits 0 well within the deadline", () =>
    Effect.gen(function*() {
      const service = yield* spawnService(
        {
          PORT: "0",
          HOST: "127.0.0.1",
          FORGE_INTERVAL_MS: "50",
          SHUTDOWN_NOTICE_MS: "0",
          SHUTDOWN_TIMEOUT_MS: "10000"
        },
        [],
        { direct: true }
      )
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
      const exit = yield* Deferred.await(service.exited).pipe(Effect.timeout(Duration.seconds(15)))
      const tookMs = Date.now() - signalled
      assert.deepStrictEqual(exit, { code: 0, signal: null })
      // About 2 s (the 1 s spread, then the answers); the deadline is far, for a busy machine.
      assert.isBelow(tookMs, 6000, "polite clients answer at once, so shutdown does not wait for the deadline")
      console.log(`shutdown with 50 polite clients: exit 0 after ${tookMs} ms`)
    }))

  it.scopedLive("SIGTERM with a client that never answers the close handshake: exit 0 by the deadline", () =>
    Effect.gen(function*() {
      const service = yield* spawnService(
        {
          PORT: "0",
          HOST: "127.0.0.1",
          FORGE_INTERVAL_MS: "50",
          SHUTDOWN_NOTICE_MS: "0",
          SHUTDOWN_TIMEOUT_MS: "1000"
        },
        [],
        { direct: true }
      )
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

  it.scopedLive(
    "SIGTERM gives notice first: for SHUTDOWN_NOTICE_MS the health check answers 503 while clients keep receiving and a new upgrade is accepted; then 1012 for all",
    () =>
      Effect.gen(function*() {
        const noticeMs = 1500
        const service = yield* spawnService(
          {
            PORT: "0",
            HOST: "127.0.0.1",
            FORGE_INTERVAL_MS: "50",
            SHUTDOWN_NOTICE_MS: String(noticeMs),
            SHUTDOWN_SPREAD_MS: "0"
          },
          [],
          { direct: true }
        )
        const port = yield* waitForPort(service)
        const health = Effect.promise(() => fetch(httpUrl(port, "/cache-healthcheck?"))).pipe(
          Effect.map((response) => response.status)
        )
        const early = yield* connect(wsUrl(port, "/_ws/"))
        yield* eventually(ensure(() => early.received.length > 0, "integers"))
        const signalled = Date.now()
        process.kill(service.pid, "SIGTERM")
        yield* eventually(health.pipe(Effect.flatMap((status) => ensure(() => status === 503, "health 503"))))
        assert.isBelow(Date.now() - signalled, noticeMs / 2, "the health check turns 503 at once")
        // Proxies still route here until their checks see it: such a client is served as before.
        const late = yield* connect(wsUrl(port, "/_ws/"))
        const receivedBefore = early.received.length
        yield* eventually(ensure(() => late.received.length >= 3, "the late client gets integers"))
        assert.isAbove(early.received.length, receivedBefore, "the early client keeps receiving")
        const closes = yield* Effect.forEach([early, late], (c) => Deferred.await(c.closed))
        const closedAfter = Date.now() - signalled
        assert.deepStrictEqual(closes.map((c) => c.code), [1012, 1012])
        assert.isAtLeast(closedAfter, noticeMs, "the sockets are let go after the notice")
        const exit = yield* Deferred.await(service.exited).pipe(Effect.timeout(Duration.seconds(10)))
        assert.deepStrictEqual(exit, { code: 0, signal: null })
        assert.include(service.log(), `leaving: the health check answers 503; closing sockets in ${noticeMs} ms`)
        console.log(`shutdown notice ${noticeMs} ms: health 503 at once, sockets closed after ${closedAfter} ms`)
      })
  )

  it.scopedLive("SIGTERM with nobody connected skips the notice", () =>
    Effect.gen(function*() {
      const service = yield* spawnService({ PORT: "0", HOST: "127.0.0.1", SHUTDOWN_NOTICE_MS: "5000" }, [], {
        direct: true
      })
      yield* waitForPort(service)
      const signalled = Date.now()
      process.kill(service.pid, "SIGTERM")
      const exit = yield* Deferred.await(service.exited).pipe(Effect.timeout(Duration.seconds(10)))
      assert.deepStrictEqual(exit, { code: 0, signal: null })
      assert.isBelow(Date.now() - signalled, 2500, "no notice to give")
      assert.notInclude(service.log(), "leaving:")
    }))
})
