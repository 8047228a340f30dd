import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect } from "effect"
import { repoPath } from "../support/RepoPaths.js"
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
})
