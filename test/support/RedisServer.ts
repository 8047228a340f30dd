/**
 * A real `redis-server` of the test's own, on a free port, stopped by its PID. Where the binary is
 * missing the Redis tests skip with a message saying how to install it, except under CI=true,
 * where .ci/run installs it and a missing one is a failure.
 */
import { Deferred, Duration, Effect, Schedule, Scope } from "effect"
import { existsSync } from "node:fs"
import * as Net from "node:net"
import { type SpawnedProcess, spawnProcess } from "./SpawnedProcess.js"

export const redisServerPath = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].find(existsSync)
export const redisMissing = redisServerPath === undefined
export const redisInstallHint = "redis-server is missing: install it with `apt-get install -y redis-server`"

if (redisMissing && process.env["CI"] !== "true") console.warn(`Skipping Redis tests. ${redisInstallHint}`)

/** A free TCP port on loopback, as the OS hands one out. */
export const freePort = Effect.async<number>((resume) => {
  const probe = Net.createServer()
  probe.listen(0, "127.0.0.1", () => {
    const { port } = probe.address() as Net.AddressInfo
    probe.close(() => resume(Effect.succeed(port)))
  })
})

const ping = (port: number) =>
  Effect.async<void, Error>((resume) => {
    const socket = Net.connect({ port, host: "127.0.0.1" })
    socket.on("error", (error) => resume(Effect.fail(error)))
    socket.on("data", (data) => {
      socket.destroy()
      resume(String(data).startsWith("+PONG") ? Effect.void : Effect.fail(new Error(String(data))))
    })
    socket.write("PING\r\n")
  })

export interface RedisProcess {
  readonly port: number
  readonly url: string
  /** Kills the server (SIGKILL), as an outage would. */
  readonly kill: Effect.Effect<void>
  /** Starts it again on the same port: empty, since it keeps nothing on disk. */
  readonly restart: Effect.Effect<void, Error>
}

/** Starts redis-server for the life of the scope. */
export const redisServer = Effect.gen(function*() {
  if (redisServerPath === undefined) return yield* Effect.die(new Error(redisInstallHint))
  const port = yield* freePort
  const scope = yield* Effect.scope
  let current: SpawnedProcess | undefined
  const start = Effect.gen(function*() {
    current = yield* spawnProcess(redisServerPath, [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no"
    ]).pipe(Scope.extend(scope))
    yield* ping(port).pipe(Effect.retry(Schedule.spaced(Duration.millis(20))), Effect.timeout(Duration.seconds(10)))
  })
  const kill = Effect.suspend(() => {
    if (current === undefined) return Effect.void
    current.kill("SIGKILL")
    return Effect.asVoid(Deferred.await(current.exited))
  })
  yield* Effect.acquireRelease(start, () => kill)
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    restart: start.pipe(Effect.mapError((e) => new Error(String(e))))
  } satisfies RedisProcess
})
