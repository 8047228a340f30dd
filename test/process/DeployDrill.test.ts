/**
 * The deploy the service exists for, rehearsed: three instances on one real redis-server behind
 * a real round-robin HAProxy with no stickiness, 100 clients on the project's own client library,
 * and rolling restarts (SIGTERM to `npm start`, then a new instance on the same port) 4 s apart,
 * three rounds. Every client must see every integer once, in order, and no client may go 3 s
 * without one.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Fiber, Stream } from "effect"
import { events } from "../../src/client/IntegerClient.js"
import { haproxy, haproxyBinary } from "../support/Haproxy.js"
import { freePort, redisServer, redisServerBinary } from "../support/RedisServer.js"
import { consecutive } from "../support/Sequences.js"
import { type ServiceProcess, spawnService, waitForPort } from "../support/ServiceProcess.js"

const instances = 3
const clients = 100
const rounds = 3
const stepMs = 4000
const silenceBoundMs = 3000

const percentile = (values: ReadonlyArray<number>, p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

describe("a rolling deploy behind HAProxy", () => {
  it.scopedLive.skipIf(haproxyBinary.skip || redisServerBinary.skip)(
    `${clients} clients, ${instances} instances restarted ${
      stepMs / 1000
    } s apart, ${rounds} rounds: no gap, no repeat, no silence of ${silenceBoundMs / 1000} s`,
    () =>
      Effect.gen(function*() {
        const redis = yield* redisServer
        const ports = yield* Effect.all(Array.from({ length: instances }, () => freePort))
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
        const running: Array<ServiceProcess> = yield* Effect.all(ports.map(start))
        const proxy = yield* haproxy(ports)

        // Every client's integers, with when each arrived.
        const received = Array.from(
          { length: clients },
          () => ({ values: [] as Array<number>, at: [] as Array<number> })
        )
        const allConnected = yield* Deferred.make<void>()
        let connected = 0
        const fibers = yield* Effect.all(received.map((log) =>
          events(`ws://127.0.0.1:${proxy.port}/_ws/drill`).pipe(
            Stream.runForEach((event) =>
              Effect.sync(() => {
                if (event._tag === "Integer") {
                  if (log.values.length === 0 && ++connected === clients) Deferred.unsafeDone(allConnected, Effect.void)
                  log.values.push(event.value)
                  log.at.push(Date.now())
                }
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
            const old = running[i]!
            old.kill("SIGTERM")
            const exit = yield* Deferred.await(old.exited).pipe(Effect.timeout(Duration.seconds(10)))
            assert.strictEqual(exit.code, 0, `instance ${i + 1} exits 0 after SIGTERM through npm:\n${old.output()}`)
            running[i] = yield* start(ports[i]!)
            yield* Effect.sleep(Duration.millis(Math.max(0, stepMs - (Date.now() - began))))
          }
        }
        yield* Effect.sleep(Duration.seconds(2))
        yield* Fiber.interruptAll(fibers)

        const silences = received.map(({ at }) => Math.max(...at.slice(1).map((t, k) => t - at[k]!)))
        console.log(
          `deploy drill: ${clients} clients, ${rounds * instances} restarts; integers per client ${
            Math.min(...received.map((r) => r.values.length))
          }–${Math.max(...received.map((r) => r.values.length))}; longest silence per client: median ${
            percentile(silences, 50)
          } ms, p99 ${percentile(silences, 99)} ms, max ${Math.max(...silences)} ms`
        )
        received.forEach(({ values }, k) => {
          assert.isTrue(consecutive(values), `client ${k}: ${values.join(",")}`)
          assert.isAbove(values.length, rounds * instances * stepMs / 100 / 2, `client ${k} kept receiving`)
        })
        assert.isBelow(Math.max(...silences), silenceBoundMs, "longest silence of any client")
      }),
    180_000
  )
})
