import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect } from "effect"
import { ensure, eventually } from "../support/Eventually.js"
import { repoPath } from "../support/RepoPaths.js"
import { restartableServer } from "../support/RestartableServer.js"
import { spawnProcess } from "../support/SpawnedProcess.js"
import { startServer } from "../support/TestServer.js"

const clientScript = repoPath("dist/client/cli.js")

/** Runs `npm run client`'s script with the given arguments, stopping it by PID after `ms`. */
const runCli = (args: ReadonlyArray<string>, ms: number) =>
  Effect.gen(function*() {
    const cli = yield* spawnProcess(process.execPath, [clientScript, ...args])
    // Ctrl-C, as the person who started it would.
    yield* Effect.sleep(Duration.millis(ms)).pipe(Effect.andThen(() => cli.kill("SIGINT")), Effect.forkScoped)
    const { code } = yield* Deferred.await(cli.exited)
    return { code, stdout: cli.stdout(), stderr: cli.stderr() }
  }).pipe(Effect.scoped)

describe("npm run client", () => {
  it.scopedLive("prints each integer on its own line, and reports on stderr", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20 })
      const run = yield* runCli([server.wsUrl("/_ws/")], 1500)
      const lines = run.stdout.trim().split("\n")
      assert.isAtLeast(lines.length, 5)
      assert.deepStrictEqual(lines.slice(0, 3), ["1", "2", "3"])
      assert.include(run.stderr, "connected to ws://127.0.0.1")
      assert.strictEqual(run.code, 0, "Ctrl-C ends it cleanly")
    }))

  it.scopedLive("a refused path or a bad URL: one clear line and a non-zero exit", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const refused = yield* runCli([server.wsUrl("/nope")], 10_000)
      assert.strictEqual(refused.code, 1)
      assert.strictEqual(refused.stderr.trim().split("\n").length, 1, refused.stderr)
      assert.include(refused.stderr, "HTTP 404")
      const bad = yield* runCli(["localhost:3000"], 10_000)
      assert.strictEqual(bad.code, 2)
      assert.strictEqual(bad.stderr.trim(), "Not a ws:// or wss:// URL: localhost:3000")
      assert.strictEqual(bad.stdout, "")
    }))

  it.scopedLive("says on stderr, once, when the service's sequence restarted under it", () =>
    Effect.gen(function*() {
      const server = yield* restartableServer({ intervalMs: 20 })
      const cli = yield* spawnProcess(process.execPath, [clientScript, "--retry-base-ms", "50", server.wsUrl("/_ws/")])
      yield* eventually(ensure(() => cli.stdout().trim().split("\n").length >= 5, "integers"))
      yield* server.stop
      // What was in flight has reached the pipe once the client says it reconnects.
      yield* eventually(ensure(() => /reconnecting in/.test(cli.stderr()), "the client noticed"))
      yield* Effect.sleep(Duration.millis(100))
      const lastSeen = Number(cli.stdout().trim().split("\n").at(-1))
      yield* server.restart
      yield* eventually(ensure(() => /sequence restarted/.test(cli.stderr()), "the restart is said"))
      const lines = cli.stderr().split("\n").filter((line) => line.includes("sequence restarted"))
      assert.deepStrictEqual(lines, [
        `the service's sequence restarted: integers after ${lastSeen} from before it cannot be replayed`
      ])
    }))

  it.scopedLive("takes the reconnect policy from its flags, and refuses a bad one with usage", () =>
    Effect.gen(function*() {
      const bad = yield* runCli(["--retry-cap-ms", "soon", "ws://127.0.0.1:1/_ws/"], 10_000)
      assert.strictEqual(bad.code, 2)
      assert.include(bad.stderr, "--retry-cap-ms takes a whole number of milliseconds, not soon")
      assert.include(bad.stderr, "Usage: npm run -s client --")
      // Nothing listens on port 1: every retry is refused, and none may wait 30 ms or more.
      const capped = yield* runCli(["--retry-base-ms", "10", "--retry-cap-ms", "30", "ws://127.0.0.1:1/_ws/"], 1000)
      const delays = [...capped.stderr.matchAll(/reconnecting in (\d+) ms/g)].map((m) => Number(m[1]))
      assert.isAtLeast(delays.length, 10)
      for (const delay of delays) assert.isBelow(delay, 30)
    }))
})
