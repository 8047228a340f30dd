/**
 * Why Redis is not up, as the operator reads it: the built service started as users start it,
 * pointed at a port where nothing listens, at a Redis that wants another password or one at all,
 * at a server that never answers, and at a name DNS does not know. Each cause is logged once,
 * within 2 s of the start, names where the service tried, and never shows the password.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect } from "effect"
import * as Net from "node:net"
import { ensure, eventually } from "../support/Eventually.js"
import { httpUrl, wsUrl } from "../support/LocalUrls.js"
import { freePort, redisServerBinary, redisServerWith } from "../support/RedisServer.js"
import { serviceOnFreePort, type ServiceProcess } from "../support/ServiceProcess.js"
import { connect } from "../support/WebSocketClient.js"

interface LogLine {
  readonly message: string
  readonly timestamp: string
  readonly annotations: Record<string, unknown>
}

const lines = (service: ServiceProcess): ReadonlyArray<LogLine> =>
  service.log().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as LogLine)

const failures = (service: ServiceProcess) =>
  lines(service).filter((l) => l.message.startsWith("Redis connection failed: "))

const secret = () => `pw-${Math.random().toString(36).slice(2)}`

/** The service on the shared forge with this Redis environment, listening on a free port. */
const start = serviceOnFreePort

/**
 * Waits, with a generous bound, for the first cause line to hold `expected`, and checks that the
 * service logged it within 2 s of its first line, by its own clock.
 */
const causeLogged = (service: ServiceProcess, expected: string) =>
  Effect.gen(function*() {
    yield* eventually(ensure(() => failures(service).length > 0, "a cause is logged"), Duration.seconds(10))
    const [first] = lines(service)
    const [cause] = failures(service)
    assert.include(cause!.message, expected)
    const afterStart = Date.parse(cause!.timestamp) - Date.parse(first!.timestamp)
    assert.isAtMost(afterStart, 2000, `logged ${afterStart} ms after the start`)
    console.log(`"${cause!.message}" logged ${afterStart} ms after the start`)
    return cause!
  })

/** Nothing in what the service wrote shows a password, nor the client library's noise. */
const nothingLeaked = (service: ServiceProcess, passwords: ReadonlyArray<string>) => {
  for (const password of passwords) assert.notInclude(service.output(), password)
  assert.notInclude(service.output(), "Stream isn't writeable")
}

/** Still serving: the health check answers 200 and the process has not exited. */
const stillServing = (service: ServiceProcess, port: number) =>
  Effect.gen(function*() {
    assert.isFalse(yield* Deferred.isDone(service.exited), "the service is still running")
    const health = yield* Effect.promise(() => fetch(httpUrl(port, "/cache-healthcheck")))
    assert.strictEqual(health.status, 200)
  })

/** A TCP server that accepts connections and never answers, as a Redis behind a stuck proxy. */
const silentServer = Effect.acquireRelease(
  Effect.async<{ readonly server: Net.Server; readonly sockets: Set<Net.Socket> }>((resume) => {
    const sockets = new Set<Net.Socket>()
    const server = Net.createServer((socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
    })
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ server, sockets })))
  }),
  ({ server, sockets }) =>
    Effect.async<void>((resume) => {
      for (const socket of sockets) socket.destroy()
      server.close(() => resume(Effect.void))
    })
).pipe(Effect.map(({ server }) => (server.address() as Net.AddressInfo).port))

describe("why Redis is not up is logged", () => {
  it.scopedLive(
    "a port where nothing listens: ECONNREFUSED host:port, once, and the outage line of a client says so too",
    () =>
      Effect.gen(function*() {
        const password = secret()
        const redisPort = yield* freePort
        const { port, service } = yield* start({ REDIS_URL: `redis://:${password}@127.0.0.1:${redisPort}` })
        const cause = yield* causeLogged(service, `ECONNREFUSED 127.0.0.1:${redisPort}`)
        assert.strictEqual(cause.annotations["cause"], "Refused")
        yield* connect(wsUrl(port, "/_ws/"))
        yield* eventually(
          ensure(() => lines(service).some((l) => l.message.startsWith("Redis unreachable")), "the outage line"),
          Duration.seconds(10)
        )
        const outage = lines(service).find((l) => l.message.startsWith("Redis unreachable"))!
        assert.include(String(outage.annotations["error"]), `ECONNREFUSED 127.0.0.1:${redisPort}`)
        // Retries come every second at most, each refused the same way: still one line.
        yield* Effect.sleep(Duration.millis(2500))
        assert.lengthOf(failures(service), 1, service.log())
        yield* stillServing(service, port)
        nothingLeaked(service, [password])
      }),
    60_000
  )

  it.scopedLive.skipIf(redisServerBinary.skip)(
    "one line per change of cause: refused, ready when Redis comes, refused again when it goes",
    () =>
      Effect.gen(function*() {
        const password = secret()
        const redisPort = yield* freePort
        const { port, service } = yield* start({ REDIS_URL: `redis://:${password}@127.0.0.1:${redisPort}` })
        yield* causeLogged(service, `ECONNREFUSED 127.0.0.1:${redisPort}`)
        const redis = yield* redisServerWith({ password, port: redisPort })
        const ready = `Redis connection ready: 127.0.0.1:${redisPort}`
        yield* eventually(ensure(() => lines(service).some((l) => l.message === ready), "ready"), Duration.seconds(10))
        yield* redis.kill
        const afterKill = () => failures(service).slice(1)
        const refused = `ECONNREFUSED 127.0.0.1:${redisPort}`
        yield* eventually(
          ensure(() => afterKill().some((l) => l.message.includes(refused)), "refused again"),
          Duration.seconds(10)
        )
        // A kill resets a connection that had a command in flight: then the reset is named first.
        const said = afterKill().map((l) => l.message)
        assert.include(said.at(-1), refused)
        if (said.length === 2) assert.include(said[0], "ECONNRESET")
        else assert.lengthOf(said, 1, service.log())
        yield* Effect.sleep(Duration.millis(1500))
        assert.lengthOf(afterKill(), said.length, service.log())
        assert.lengthOf(lines(service).filter((l) => l.message.startsWith("Redis connection ready")), 1)
        yield* stillServing(service, port)
        nothingLeaked(service, [password])
      }),
    60_000
  )

  it.scopedLive.skipIf(redisServerBinary.skip)(
    "VIP's variables with a wrong password: WRONGPASS; with none where Redis wants one: NOAUTH",
    () =>
      Effect.gen(function*() {
        const password = secret()
        const wrong = secret()
        const redis = yield* redisServerWith({ password })
        const primary = `127.0.0.1:${redis.port}`
        const [wrongOne, noneOne] = yield* Effect.all([
          start({ VIP_REDIS_PRIMARY: primary, VIP_REDIS_PASSWORD: wrong }),
          start({ VIP_REDIS_PRIMARY: primary, VIP_REDIS_PASSWORD: "" })
        ], { concurrency: 2 })
        const refused = yield* causeLogged(wrongOne!.service, `WRONGPASS at ${primary}`)
        assert.strictEqual(refused.annotations["cause"], "WrongPassword")
        const missing = yield* causeLogged(noneOne!.service, `NOAUTH at ${primary}`)
        assert.strictEqual(missing.annotations["cause"], "PasswordMissing")
        yield* Effect.sleep(Duration.millis(1500))
        for (const { port, service } of [wrongOne!, noneOne!]) {
          assert.lengthOf(failures(service), 1, service.log())
          yield* stillServing(service, port)
          nothingLeaked(service, [password, wrong])
        }
      }),
    60_000
  )

  it.scopedLive("a server that accepts and never answers: a timeout naming host:port", () =>
    Effect.gen(function*() {
      const password = secret()
      const silent = yield* silentServer
      const { port, service } = yield* start({
        VIP_REDIS_PRIMARY: `127.0.0.1:${silent}`,
        VIP_REDIS_PASSWORD: password
      })
      const cause = yield* causeLogged(service, `timeout: no answer from 127.0.0.1:${silent}`)
      assert.strictEqual(cause.annotations["cause"], "TimedOut")
      yield* stillServing(service, port)
      nothingLeaked(service, [password])
    }), 60_000)

  it.scopedLive("a host name DNS does not know: ENOTFOUND and the name", () =>
    Effect.gen(function*() {
      const password = secret()
      // .invalid is reserved never to resolve (RFC 6761).
      const { port, service } = yield* start({ REDIS_URL: `redis://:${password}@no-such-redis.invalid:6379` })
      const cause = yield* causeLogged(service, "no-such-redis.invalid")
      assert.match(cause.message, /(ENOTFOUND|EAI_AGAIN) no-such-redis\.invalid/)
      assert.strictEqual(cause.annotations["cause"], "HostNotFound")
      yield* stillServing(service, port)
      nothingLeaked(service, [password])
    }), 60_000)
})
