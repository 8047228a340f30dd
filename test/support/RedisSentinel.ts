/**
 * Redis under Sentinel, all of it the test's own: a primary and a replica (`redis-server`) and
 * three sentinels (`redis-sentinel`), on free ports of 127.0.0.1, each stopped by its PID with the
 * scope. The replica replicates as a user of its own, so that the test can hold it behind the
 * primary (`holdReplicaBehind`) while the sentinels still see it as healthy.
 */
import { Deferred, Duration, Effect, Schedule, Scope } from "effect"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { dependency } from "./Dependency.js"
import { freePort, redisClient, redisServerBinary, redisServerWith } from "./RedisServer.js"
import { spawnProcess } from "./SpawnedProcess.js"
import { temporaryFolder } from "./TemporaryFolder.js"

export const redisSentinelBinary = dependency(
  "Sentinel tests",
  ["/usr/bin/redis-sentinel", "/usr/local/bin/redis-sentinel"],
  "redis-sentinel is missing: install it with `apt-get install -y redis-sentinel`"
)

/** Whether the machine can run `sentinelGroup`; skip otherwise (outside CI). */
export const sentinelSkip = redisServerBinary.skip || redisSentinelBinary.skip

const replicator = { user: "replicator", password: "replicator-secret" }

/**
 * The group for the life of the scope, once every sentinel knows the replica and the two other
 * sentinels. `downAfterMs`: how long the primary must be silent before a sentinel thinks it down.
 */
export const sentinelGroup = (master: string, downAfterMs: number) =>
  Effect.gen(function*() {
    const sentinelPath = yield* redisSentinelBinary.required
    const scope = yield* Effect.scope
    // Where the replica keeps the copy it syncs, and each sentinel its file.
    const folder = yield* temporaryFolder("integer-forge-sentinel-")
    const primary = yield* redisServerWith({
      args: [
        "--dir",
        folder,
        "--user",
        replicator.user,
        "on",
        `>${replicator.password}`,
        "+psync",
        "+replconf",
        "+ping"
      ]
    })
    const replica = yield* redisServerWith({
      args: [
        "--dir",
        folder,
        "--replicaof",
        "127.0.0.1",
        String(primary.port),
        "--masteruser",
        replicator.user,
        "--masterauth",
        replicator.password
      ]
    })
    const sentinelPorts = yield* Effect.all([freePort, freePort, freePort])
    for (const [k, port] of sentinelPorts.entries()) {
      const file = join(folder, `sentinel-${k}.conf`)
      // Sentinel rewrites its file as it learns the group, so each has a writable one.
      writeFileSync(
        file,
        [
          `port ${port}`,
          "bind 127.0.0.1",
          `dir ${folder}`,
          `sentinel monitor ${master} 127.0.0.1 ${primary.port} 2`,
          `sentinel down-after-milliseconds ${master} ${downAfterMs}`,
          `sentinel failover-timeout ${master} 10000`,
          ""
        ].join("\n")
      )
      yield* spawnProcess(sentinelPath, [file]).pipe(Scope.extend(scope))
    }
    const admin = {
      primary: yield* redisClient(primary.url),
      replica: yield* redisClient(replica.url),
      sentinels: yield* Effect.forEach(sentinelPorts, (port) => redisClient(`redis://127.0.0.1:${port}`))
    }
    // Each sentinel learns the replica from the primary, and the others from their hello messages.
    yield* Effect.forEach(admin.sentinels, (sentinel) =>
      Effect.tryPromise(() =>
        sentinel.call("sentinel", "master", master)
      ).pipe(
        Effect.flatMap((reply) => {
          const fields = reply as Array<string>
          const field = (name: string) => fields[fields.indexOf(name) + 1]
          return field("num-slaves") === "1" && field("num-other-sentinels") === "2"
            ? Effect.void
            : Effect.fail(new Error(`sentinel not ready: ${fields.join(" ")}`))
        }),
        Effect.retry(Schedule.spaced(Duration.millis(100))),
        Effect.timeout(Duration.seconds(20))
      ))

    // When the sentinels switch the master to the replica: the failover's end, as they announce it.
    const switched = yield* Deferred.make<number>()
    const listener = yield* redisClient(`redis://127.0.0.1:${sentinelPorts[0]}`)
    listener.on("message", (channel: string) => {
      if (channel === "+switch-master") Deferred.unsafeDone(switched, Effect.succeed(Date.now()))
    })
    yield* Effect.tryPromise(() => listener.subscribe("+switch-master"))

    return {
      primary,
      replica,
      admin,
      /** The service's settings to reach this group. */
      env: {
        REDIS_SENTINELS: sentinelPorts.map((port) => `127.0.0.1:${port}`).join(","),
        REDIS_SENTINEL_MASTER: master
      },
      /** When the sentinels announced the failover (ms since the epoch). */
      switched: Deferred.await(switched),
      /**
       * Stops replication until the primary is gone: the replicator may no longer log in, and its
       * link is cut; the replica keeps trying, and the sentinels still count it healthy.
       */
      holdReplicaBehind: Effect.tryPromise(async () => {
        await admin.primary.call("acl", "setuser", replicator.user, "off")
        await admin.primary.call("client", "kill", "user", replicator.user)
      })
    }
  })
