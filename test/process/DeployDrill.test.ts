/**
 * The deploy the service exists for, rehearsed behind proxies left at their defaults: three
 * instances (`npm start`) on one real redis-server, 200 clients on the project's own client
 * library, two rounds of rolling restarts 4 s apart; then the instances rebalance themselves.
 *
 * - HAProxy, instances restarted in place: SIGTERM, and once the old one has exited a new one on
 *   the same port. HAProxy keeps routing to a draining instance until two health checks failed.
 * - nginx, a surge rollout: a new instance joins the upstream and nginx reloads, then the old one
 *   gets SIGTERM, and once it has exited it leaves the upstream (another reload). nginx has no
 *   active checks: it routes to the draining instance until the reload that removes it.
 *
 * Every client must see every integer once, in order; no client may go more than a second
 * without one (p99 of each client's longest silence), none more than 2.5 s, rebalancing included;
 * every instance exits 0; within 120 s of the last restart every instance holds its share ± 15 %.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Fiber, Stream } from "effect"
import { events } from "../../src/client/IntegerClient.js"
import { haproxy, haproxyBinary } from "../support/Haproxy.js"
import { scrapeMetrics } from "../support/Metrics.js"
import { nginx, nginxBinary } from "../support/Nginx.js"
import { freePort, redisServer, redisServerBinary } from "../support/RedisServer.js"
import { consecutive } from "../support/Sequences.js"
import { type ServiceProcess, spawnService, waitForPort } from "../support/ServiceProcess.js"

const instances = 3
const clients = 200
const rounds = 2
const stepMs = 4000
const p99BoundMs = 1000
const maxBoundMs = 2500
const balanceWithinMs = 120_000
const tolerance = 0.15

const openOn = (port: number) =>
  scrapeMetrics(`http://127.0.0.1:${port}/metrics`).pipe(
    Effect.map((read) => read("forge_connections_open", { protocol: "plain" }) ?? 0)
  )

/** Polls the instances until each holds its share of the clients ± `tolerance`; how long it took. */
const balanced = (ports: () => ReadonlyArray<number>) =>
  Effect.gen(function*() {
    const began = Date.now()
    let counts: ReadonlyArray<number> = []
    while (Date.now() - began < balanceWithinMs) {
      counts = yield* Effect.all(ports().map(openOn))
      const share = clients / counts.length
      const sum = counts.reduce((a, b) => a + b, 0)
      if (sum === clients && counts.every((n) => Math.abs(n - share) <= share * tolerance)) {
        return { afterMs: Date.now() - began, counts }
      }
      yield* Effect.sleep(Duration.millis(500))
    }
    return assert.fail(`not balanced within ${balanceWithinMs / 1000} s: ${counts.join(" / ")}`)
  })

const percentile = (values: ReadonlyArray<number>, p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

/** How one instance is replaced: given the running one and a way to start another. */
type Rollout = (
  old: ServiceProcess,
  oldPort: number,
  start: (port: number) => Effect.Effect<ServiceProcess, Error, import("effect").Scope.Scope>
) => Effect.Effect<{ readonly service: ServiceProcess; readonly port: number }, Error, import("effect").Scope.Scope>

const stopped = (service: ServiceProcess, what: string) =>
  Deferred.await(service.exited).pipe(
    Effect.timeout(Duration.seconds(10)),
    Effect.flatMap((exit) =>
      exit.code === 0 ? Effect.void : Effect.dieMessage(`${what} exited ${exit.code}:\n${service.output()}`)
    )
  )

const drill = (
  proxyFor: (
    ports: ReadonlyArray<number>
  ) => Effect.Effect<{ readonly port: number }, Error, import("effect").Scope.Scope>,
  rollout: (proxy: { readonly port: number }) => Rollout
) =>
  Effect.gen(function*() {
    const redis = yield* redisServer
    const env = (port: number) => ({
      PORT: String(port),
      HOST: "127.0.0.1",
      REDIS_URL: redis.url,
      FORGE_INTERVAL_MS: "100",
      FORGE_LEASE_MS: "1000",
      SHUTDOWN_TIMEOUT_MS: "3000",
      SHUTDOWN_SPREAD_MS: "1000"
    })
    const start = (port: number) => spawnService(env(port)).pipe(Effect.tap((service) => waitForPort(service)))
    const ports = yield* Effect.all(Array.from({ length: instances }, () => freePort))
    const running = yield* Effect.all(
      ports.map((port) => start(port).pipe(Effect.map((service) => ({ service, port }))))
    )
    const proxy = yield* proxyFor(ports)
    const replace = rollout(proxy)

    // Every client's integers, with when each arrived.
    const received = Array.from(
      { length: clients },
      () => ({ values: [] as Array<number>, at: [] as Array<number>, connectedAt: [] as Array<number> })
    )
    const allConnected = yield* Deferred.make<void>()
    let connected = 0
    const fibers = yield* Effect.all(received.map((log) =>
      events(`ws://127.0.0.1:${proxy.port}/_ws/drill`).pipe(
        Stream.runForEach((event) =>
          Effect.sync(() => {
            if (event._tag === "Connected") log.connectedAt.push(Date.now())
            if (event._tag !== "Integer") return
            if (log.values.length === 0 && ++connected === clients) Deferred.unsafeDone(allConnected, Effect.void)
            log.values.push(event.value)
            log.at.push(Date.now())
          })
        ),
        Effect.forkScoped
      )
    ))
    yield* Deferred.await(allConnected).pipe(Effect.timeout(Duration.seconds(20)))
    yield* Effect.sleep(Duration.seconds(1))

    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < instances; i++) {
        const began = Date.now()
        running[i] = yield* replace(running[i]!.service, running[i]!.port, start)
        yield* Effect.sleep(Duration.millis(Math.max(0, stepMs - (Date.now() - began))))
      }
    }
    const deployed = Date.now()
    const before = yield* Effect.all(running.map(({ port }) => openOn(port)))
    const balance = yield* balanced(() => running.map(({ port }) => port))
    yield* Effect.sleep(Duration.seconds(2))
    yield* Fiber.interruptAll(fibers)

    const longestGap = (at: ReadonlyArray<number>) => Math.max(0, ...at.slice(1).map((t, k) => t - at[k]!))
    const silences = received.map(({ at }) => longestGap(at))
    // Clients that reconnected after the deploy were moved by the rebalancing.
    const moved = received.filter(({ connectedAt }) => connectedAt.some((t) => t > deployed))
      .map(({ at }) => longestGap(at.filter((t) => t > deployed - 1000)))
    const figures = {
      integers: [Math.min(...received.map((r) => r.values.length)), Math.max(...received.map((r) => r.values.length))],
      median: percentile(silences, 50),
      p99: percentile(silences, 99),
      max: Math.max(...silences),
      before,
      balance,
      moved: moved.length,
      movedP99: moved.length === 0 ? 0 : percentile(moved, 99)
    }
    received.forEach(({ values }, k) => {
      assert.isTrue(consecutive(values), `client ${k}: ${values.join(",")}`)
      assert.isAbove(values.length, rounds * instances * stepMs / 100 / 2, `client ${k} kept receiving`)
    })
    return figures
  })

const report = (proxy: string, figures: Effect.Effect.Success<ReturnType<typeof drill>>) => {
  console.log(
    `deploy drill behind ${proxy} at its defaults: ${clients} clients, ${
      rounds * instances
    } restarts; integers per client ${
      figures.integers.join("–")
    }; longest silence per client: median ${figures.median} ms, p99 ${figures.p99} ms, max ${figures.max} ms; ` +
      `clients per instance after the deploy ${figures.before.join(" / ")}, balanced ${
        (figures.balance.afterMs / 1000).toFixed(1)
      } s later at ${figures.balance.counts.join(" / ")}; ${figures.moved} clients moved, ` +
      `their longest silence p99 ${figures.movedP99} ms`
  )
  assert.isAtMost(figures.p99, p99BoundMs, "p99 of the clients' longest silences")
  assert.isAtMost(figures.max, maxBoundMs, "the longest silence of any client")
}

const title = (how: string) =>
  `${clients} clients, ${instances} instances ${how} ${stepMs / 1000} s apart, ${rounds} rounds: no gap, no repeat, ` +
  `longest silence p99 ≤ ${p99BoundMs / 1000} s, max ≤ ${maxBoundMs / 1000} s; balanced ± ${tolerance * 100} % ` +
  `within ${balanceWithinMs / 1000} s`

describe("a rolling deploy behind a proxy at its defaults", () => {
  it.scopedLive.skipIf(haproxyBinary.skip || redisServerBinary.skip)(
    `HAProxy: ${title("restarted in place")}`,
    () =>
      Effect.gen(function*() {
        const figures = yield* drill(haproxy, () => (old, port, start) =>
          Effect.gen(function*() {
            old.kill("SIGTERM")
            yield* stopped(old, `the instance on port ${port}`)
            return { service: yield* start(port), port }
          }))
        report("HAProxy", figures)
      }),
    300_000
  )

  it.scopedLive.skipIf(nginxBinary.skip || redisServerBinary.skip)(
    `nginx: ${title("replaced by a surge rollout")}; no reset in nginx's error log`,
    () =>
      Effect.gen(function*() {
        let proxy: Effect.Effect.Success<ReturnType<typeof nginx>> | undefined
        let upstream: Array<number> = []
        const figures = yield* drill(
          (ports) =>
            nginx(ports).pipe(Effect.tap((started) => {
              proxy = started
              upstream = [...ports]
            })),
          () => (old, oldPort, start) =>
            Effect.gen(function*() {
              const port = yield* freePort
              const service = yield* start(port)
              upstream = [...upstream, port]
              yield* proxy!.route(upstream)
              // A reload starts new workers and lets the old ones finish; give it a moment.
              yield* Effect.sleep(Duration.millis(300))
              old.kill("SIGTERM")
              yield* stopped(old, `the instance on port ${oldPort}`)
              upstream = upstream.filter((p) => p !== oldPort)
              yield* proxy!.route(upstream)
              return { service, port }
            })
        )
        report("nginx", figures)
        const resets = proxy!.errorLog().split("\n").filter((line) => /reset by peer|prematurely closed/.test(line))
        assert.deepStrictEqual(resets, [], "nginx saw no instance reset or cut a connection")
      }),
    300_000
  )
})
