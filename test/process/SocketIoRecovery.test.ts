/**
 * Socket.IO clients across restarts and moves, as a Socket.IO user runs them: the official
 * socket.io-client with `transports: ["websocket"]` and its own reconnection, against the built
 * service as processes, on a real redis-server and behind a real HAProxy at its defaults (no
 * health checks, no retry on a 503). With the shared forge every reconnect must recover, with
 * no integer missed or repeated; after an in-process restart none can.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect } from "effect"
import { ensure, eventually } from "../support/Eventually.js"
import { haproxy, haproxyBinary } from "../support/Haproxy.js"
import { httpUrl, wsUrl } from "../support/LocalUrls.js"
import { scrapeMetrics } from "../support/Metrics.js"
import { freePort, redisServer, redisServerBinary } from "../support/RedisServer.js"
import { type ServiceProcess, spawnService, waitForPort } from "../support/ServiceProcess.js"
import { type SocketIoClient, socketIoClient } from "../support/SocketIoClient.js"
import { connect } from "../support/WebSocketClient.js"

const intervalMs = 100

const settings = (port: number, redisUrl: string | undefined, prefix: string) => ({
  PORT: String(port),
  HOST: "127.0.0.1",
  FORGE_INTERVAL_MS: String(intervalMs),
  FORGE_LEASE_MS: "1000",
  SHUTDOWN_TIMEOUT_MS: "3000",
  SHUTDOWN_SPREAD_MS: "1000",
  ...(redisUrl === undefined ? {} : { REDIS_URL: redisUrl, REDIS_PREFIX: prefix })
})

/** Instances of the service on ports of their own, all on one Redis (or each in-process). */
const fleet = (count: number, redisUrl: string | undefined) =>
  Effect.gen(function*() {
    const prefix = `test-${Math.random().toString(36).slice(2)}`
    const ports = yield* Effect.all(Array.from({ length: count }, () => freePort))
    const start = (port: number) =>
      spawnService(settings(port, redisUrl, prefix)).pipe(Effect.tap((service) => waitForPort(service)))
    const running: Array<ServiceProcess> = yield* Effect.all(ports.map(start), { concurrency: count })
    return {
      ports,
      /** Stops instance i as a deploy does (SIGTERM, then its drain), and leaves it stopped. */
      stop: (i: number) =>
        Effect.gen(function*() {
          const old = running[i]!
          old.kill("SIGTERM")
          const exit = yield* Deferred.await(old.exited).pipe(Effect.timeout(Duration.seconds(10)))
          assert.strictEqual(exit.code, 0, `instance ${i + 1} exits 0 after SIGTERM:\n${old.output()}`)
        }),
      /** A new instance in i's place, on the same port. */
      start: (i: number) => Effect.map(start(ports[i]!), (service) => void (running[i] = service))
    }
  })

/** What a client's integers and connections add up to. */
const tally = (client: SocketIoClient) => {
  const { connections, integers } = client
  let missed = 0
  let repeated = 0
  for (let i = 1; i < integers.length; i++) {
    if (integers[i]! <= integers[i - 1]!) repeated++
    else missed += integers[i]! - integers[i - 1]! - 1
  }
  return {
    reconnects: connections.length - 1,
    recovered: connections.slice(1).filter((c) => c.recovered).length,
    missed,
    repeated,
    pids: new Set(connections.map((c) => c.pid)).size
  }
}

const socketIoOpen = (port: number) =>
  scrapeMetrics(httpUrl(port, "/metrics")).pipe(
    Effect.map((read) => read("forge_connections_open", { protocol: "socket.io" }) ?? 0)
  )

describe("Socket.IO clients recover their connection's state", () => {
  it.scopedLive.skipIf(redisServerBinary.skip)(
    "across a restart of their instance, while a second one on the same Redis keeps the sequence going",
    () =>
      Effect.gen(function*() {
        const redis = yield* redisServer
        const instances = yield* fleet(2, redis.url)
        yield* connect(wsUrl(instances.ports[1]!, "/_ws/"))
        const client = yield* socketIoClient(httpUrl(instances.ports[0]!, ""))
        yield* eventually(ensure(() => client.integers.length >= 10, "integers"), Duration.seconds(15))
        // The instance serves through its shutdown notice: what it sent until it exited is the old sequence.
        yield* instances.stop(0)
        const before = client.integers.length
        yield* instances.start(0)
        yield* eventually(ensure(() => client.connects() === 2, "reconnected"), Duration.seconds(20))
        yield* eventually(ensure(() => client.integers.length >= before + 20, "integers again"), Duration.seconds(15))
        const result = tally(client)
        console.log(
          `restart with Redis: ${JSON.stringify(result)}, integers ${client.integers[0]}–${client.integers.at(-1)}`
        )
        assert.deepStrictEqual(result, { reconnects: 1, recovered: 1, missed: 0, repeated: 0, pids: 1 })
        assert.match(client.connections[0]!.pid!, /^shared\.\d+$/)
      }),
    60_000
  )

  it.scopedLive(
    "not after a restart of an in-process instance: its sequence is another",
    () =>
      Effect.gen(function*() {
        const instances = yield* fleet(1, undefined)
        const client = yield* socketIoClient(httpUrl(instances.ports[0]!, ""))
        yield* eventually(ensure(() => client.integers.length >= 10, "integers"), Duration.seconds(15))
        // The instance serves through its shutdown notice: what it sent until it exited is the old sequence.
        yield* instances.stop(0)
        const before = client.integers.length
        yield* instances.start(0)
        yield* eventually(ensure(() => client.connects() === 2, "reconnected"), Duration.seconds(20))
        yield* eventually(ensure(() => client.integers.length >= before + 5, "integers again"), Duration.seconds(15))
        const result = tally(client)
        console.log(`restart in-process: ${JSON.stringify(result)}`)
        assert.strictEqual(result.reconnects, 1)
        assert.strictEqual(result.recovered, 0)
        assert.strictEqual(result.pids, 2, "a new pid, of the new sequence")
        assert.strictEqual(client.integers[before], 1, "the new sequence starts over")
      }),
    60_000
  )

  it.scopedLive.skipIf(redisServerBinary.skip || haproxyBinary.skip)(
    "across moves to another instance behind HAProxy at its defaults",
    () =>
      Effect.gen(function*() {
        const redis = yield* redisServer
        const instances = yield* fleet(2, redis.url)
        const proxy = yield* haproxy(instances.ports)
        // A witness on each instance, so that either keeps forging while the client moves.
        for (const port of instances.ports) yield* connect(wsUrl(port, "/_ws/"))
        const client = yield* socketIoClient(httpUrl(proxy.port, ""))
        yield* eventually(ensure(() => client.integers.length >= 10, "integers"), Duration.seconds(15))
        for (let move = 1; move <= 2; move++) {
          const open = yield* Effect.forEach(instances.ports, socketIoOpen)
          const holder = open.indexOf(1)
          assert.isAtLeast(holder, 0, `one instance holds the client: ${open}`)
          const before = client.integers.length
          yield* instances.stop(holder)
          yield* eventually(ensure(() => client.connects() === move + 1, "reconnected"), Duration.seconds(20))
          yield* eventually(ensure(() => client.integers.length >= before + 20, "integers again"), Duration.seconds(15))
          assert.strictEqual(yield* socketIoOpen(instances.ports[1 - holder]!), 1, "on the other instance now")
          yield* instances.start(holder)
        }
        const result = tally(client)
        console.log(`moves behind HAProxy: ${JSON.stringify(result)}`)
        assert.deepStrictEqual(result, { reconnects: 2, recovered: 2, missed: 0, repeated: 0, pids: 1 })
      }),
    90_000
  )

  const clients = 30
  const instanceCount = 3
  const restarts = 6
  const stepMs = 4000

  it.scopedLive.skipIf(redisServerBinary.skip || haproxyBinary.skip)(
    `through a rolling deploy: ${clients} clients, ${instanceCount} instances behind HAProxy at its defaults, ${restarts} restarts ${
      stepMs / 1000
    } s apart`,
    () =>
      Effect.gen(function*() {
        const redis = yield* redisServer
        const instances = yield* fleet(instanceCount, redis.url)
        const proxy = yield* haproxy(instances.ports)
        const fleetOfClients = yield* Effect.all(
          Array.from({ length: clients }, () => socketIoClient(httpUrl(proxy.port, "")))
        )
        yield* eventually(
          ensure(() => fleetOfClients.every((c) => c.integers.length >= 5), "every client receives"),
          Duration.seconds(20)
        )
        for (let k = 0; k < restarts; k++) {
          const began = Date.now()
          yield* instances.stop(k % instanceCount)
          yield* instances.start(k % instanceCount)
          yield* Effect.sleep(Duration.millis(Math.max(0, stepMs - (Date.now() - began))))
        }
        // Every client back and receiving: its last integer is one of the latest.
        yield* eventually(
          ensure(() => {
            const latest = Math.max(...fleetOfClients.map((c) => c.integers.at(-1)!))
            return fleetOfClients.every((c) => c.socket.connected && c.integers.at(-1)! >= latest - 5)
          }, "every client back"),
          Duration.seconds(20)
        )
        const results = fleetOfClients.map(tally)
        const sum = (pick: (r: ReturnType<typeof tally>) => number) => results.reduce((n, r) => n + pick(r), 0)
        const counts = fleetOfClients.map((c) => c.integers.length)
        console.log(
          `socket.io rolling deploy: ${clients} clients, ${restarts} restarts: ${
            sum((r) => r.reconnects)
          } reconnects, ${sum((r) => r.recovered)} recovered; integers per client ${Math.min(...counts)}–${
            Math.max(...counts)
          }; missed ${sum((r) => r.missed)}, repeated ${sum((r) => r.repeated)}`
        )
        assert.isAtLeast(sum((r) => r.reconnects), clients, "the restarts moved every client at least once")
        results.forEach((r, k) => {
          assert.strictEqual(r.recovered, r.reconnects, `client ${k}: every reconnect recovered`)
          assert.strictEqual(r.missed, 0, `client ${k}: ${fleetOfClients[k]!.integers.join(",")}`)
          assert.strictEqual(r.repeated, 0, `client ${k}: ${fleetOfClients[k]!.integers.join(",")}`)
          assert.strictEqual(r.pids, 1, `client ${k}: one pid throughout`)
        })
      }),
    120_000
  )
})
