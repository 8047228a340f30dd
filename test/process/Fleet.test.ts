/**
 * `npm run fleet` as a person runs it: Redis, two instances and HAProxy come up; a client through
 * HAProxy receives integers; an instance stopped with SIGTERM is started again on its port; SIGINT
 * (Ctrl-C) stops every process the fleet started, and the fleet exits 0.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect } from "effect"
import { ensure, eventually } from "../support/Eventually.js"
import { haproxyBinary } from "../support/Haproxy.js"
import { redisServerBinary } from "../support/RedisServer.js"
import { repoPath } from "../support/RepoPaths.js"
import { spawnProcess } from "../support/SpawnedProcess.js"
import { connect } from "../support/WebSocketClient.js"

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const pidsIn = (output: string) => [...output.matchAll(/\bpid (\d+)/g)].map((m) => Number(m[1]))

describe.skipIf(redisServerBinary.skip || haproxyBinary.skip)("npm run fleet", () => {
  it.scopedLive(
    "starts Redis, the instances and HAProxy, restarts an instance stopped by SIGTERM, and stops them all on SIGINT",
    () =>
      Effect.gen(function*() {
        const fleet = yield* spawnProcess(process.execPath, [repoPath("scripts/fleet.mjs"), "--instances", "2"], {
          env: { FORGE_INTERVAL_MS: "100" },
          stopSignal: "SIGINT"
        })
        yield* eventually(
          ensure(() => fleet.output().includes("[fleet] restart one"), "the fleet up"),
          Duration.seconds(20)
        )
        const url = /connect: websocat (\S+)/.exec(fleet.output())![1]!
        const first = /forge1 is pid (\d+), port (\d+)/.exec(fleet.output())!
        const client = yield* connect(url)
        yield* eventually(ensure(() => client.received.length >= 3, "integers through HAProxy"), Duration.seconds(10))

        process.kill(Number(first[1]), "SIGTERM")
        yield* eventually(
          ensure(() => /forge1 is pid \d+ again/.test(fleet.output()), "forge1 started again"),
          Duration.seconds(20)
        )
        const started = pidsIn(fleet.output())
        assert.isAbove(started.length, 5, fleet.output())
        // Should the fleet leave one behind, the test still stops it.
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => started.filter(isAlive).forEach((pid) => process.kill(pid, "SIGKILL")))
        )

        fleet.kill("SIGINT")
        const exit = yield* Deferred.await(fleet.exited).pipe(Effect.timeout(Duration.seconds(30)))
        assert.strictEqual(exit.code, 0, fleet.output())
        assert.include(fleet.output(), "[fleet] stopped")
        assert.deepStrictEqual(started.filter(isAlive), [], "every process the fleet started is gone")
      }),
    90_000
  )
})
