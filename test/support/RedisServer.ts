/**
 * A real `redis-server` of the test's own, on a free port, stopped by its PID. Its default user
 * may run every command but scripts (`-@scripting`: no EVAL, EVALSHA, SCRIPT, FCALL or FUNCTION),
 * as on a managed Redis that forbids them, so that a script anywhere in the service fails the test.
 */
import { Deferred, Duration, Effect, Schedule, Scope } from "effect"
import { Redis } from "ioredis"
import * as Net from "node:net"
import { dependency } from "./Dependency.js"
import { type SpawnedProcess, spawnProcess } from "./SpawnedProcess.js"

export const redisServerBinary = dependency(
  "Redis tests",
  ["/usr/bin/redis-server", "/usr/local/bin/redis-server"],
  "redis-server is missing: install it with `apt-get install -y redis-server`"
)

/** A free TCP port on loopback, as the OS hands one out. */
export const freePort = Effect.async<number>((resume) => {
  const probe = Net.createServer()
  probe.listen(0, "127.0.0.1", () => {
    const { port } = probe.address() as Net.AddressInfo
    probe.close(() => resume(Effect.succeed(port)))
  })
})

/** PONG from the server, after AUTH when it has a password. */
const ping = (port: number, password: string | undefined) =>
  Effect.async<void, Error>((resume) => {
    const socket = Net.connect({ port, host: "127.0.0.1" })
    let answer = ""
    socket.on("error", (error) => resume(Effect.fail(error)))
    socket.on("data", (data) => {
      answer += String(data)
      if (!answer.includes("\r\n") || (password !== undefined && answer.split("\r\n").length < 3)) return
      socket.destroy()
      resume(answer.includes("+PONG") ? Effect.void : Effect.fail(new Error(answer)))
    })
    socket.write(password === undefined ? "PING\r\n" : `AUTH ${password}\r\nPING\r\n`)
  })

export interface RedisProcess {
  readonly port: number
  /** `redis://127.0.0.1:<port>`, with the password when there is one. */
  readonly url: string
  /** Kills the server (SIGKILL), as an outage would. */
  readonly kill: Effect.Effect<void>
  /** Starts it again on the same port: empty, since it keeps nothing on disk. */
  readonly restart: Effect.Effect<void, Error>
}

/**
 * Starts redis-server for the life of the scope, on 127.0.0.1 and, where the machine has it, ::1;
 * with `password`, its default user needs it (AUTH without a user name, as VIP's Redis does); with
 * `port`, on that port instead of a free one (where a service was told to look before it was there);
 * `args`, more of redis-server's options (a replica's).
 */
export const redisServerWith = (
  options: { readonly password?: string; readonly port?: number; readonly args?: ReadonlyArray<string> } = {}
) =>
  Effect.gen(function*() {
    const path = yield* redisServerBinary.required
    const port = options.port ?? (yield* freePort)
    const scope = yield* Effect.scope
    let current: SpawnedProcess | undefined
    const start = Effect.gen(function*() {
      current = yield* spawnProcess(path, [
        "--port",
        String(port),
        // "-": the address is skipped where the machine has no IPv6 loopback.
        "--bind",
        "127.0.0.1",
        "-::1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--user",
        "default",
        "on",
        options.password === undefined ? "nopass" : `>${options.password}`,
        "~*",
        "&*",
        "+@all",
        "-@scripting",
        ...(options.args ?? [])
      ]).pipe(Scope.extend(scope))
      yield* ping(port, options.password).pipe(
        Effect.retry(Schedule.spaced(Duration.millis(20))),
        Effect.timeout(Duration.seconds(10))
      )
    })
    const kill = Effect.suspend(() => {
      if (current === undefined) return Effect.void
      current.kill("SIGKILL")
      return Effect.asVoid(Deferred.await(current.exited))
    })
    yield* Effect.acquireRelease(start, () => kill)
    const auth = options.password === undefined ? "" : `:${encodeURIComponent(options.password)}@`
    return {
      port,
      url: `redis://${auth}127.0.0.1:${port}`,
      kill,
      restart: start.pipe(Effect.mapError((e) => new Error(String(e))))
    } satisfies RedisProcess
  })

/** Starts redis-server, without a password, for the life of the scope. */
export const redisServer = redisServerWith()

/**
 * A Redis client for the test itself (to read keys, kill connections, pause the server), closed
 * with the scope. Its connection errors, while the test kills or pauses the server on purpose,
 * surface through the commands that fail; unhandled, ioredis would print each one.
 */
export const redisClient = (url: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const client = new Redis(url)
      client.on("error", () => {})
      return client
    }),
    (client) => Effect.sync(() => client.disconnect())
  )
