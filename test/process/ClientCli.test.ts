/**
 * `npm run -s client -- URL` against `npm start`, both as they ship, as a person at two
 * terminals runs them.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect } from "effect"
import { ctrlC, spawnClient } from "../support/ClientProcess.js"
import { ensure, eventually } from "../support/Eventually.js"
import { httpUrl, wsUrl } from "../support/LocalUrls.js"
import { consecutive } from "../support/Sequences.js"
import { restartableService, spawnService, waitForPort } from "../support/ServiceProcess.js"
import type { SpawnedProcess } from "../support/SpawnedProcess.js"
import { connect } from "../support/WebSocketClient.js"

/**
 * Runs the client with the given arguments until it ends by itself or has printed what `enough`
 * waits for, and then presses Ctrl-C.
 */
const runCli = (args: ReadonlyArray<string>, enough: (cli: SpawnedProcess) => boolean = () => false) =>
  Effect.gen(function*() {
    const cli = yield* spawnClient(args)
    yield* Effect.race(
      eventually(ensure(() => enough(cli), "what the test waits for"), Duration.seconds(15)),
      Deferred.await(cli.exited)
    )
    ctrlC(cli)
    const { code } = yield* Deferred.await(cli.exited)
    return { code, stdout: cli.stdout(), stderr: cli.stderr() }
  }).pipe(Effect.scoped)

const service = (env: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const running = yield* spawnService({ PORT: "0", HOST: "127.0.0.1", ...env })
    const port = yield* waitForPort(running)
    return { wsUrl: (path: string) => wsUrl(port, path), httpUrl: (path: string) => httpUrl(port, path), running }
  })

describe("npm run -s client", () => {
  it.scopedLive("prints each integer on its own line, and reports on stderr", () =>
    Effect.gen(function*() {
      const server = yield* service({ FORGE_INTERVAL_MS: "20" })
      const run = yield* runCli([server.wsUrl("/_ws/")], (cli) => cli.stdout().split("\n").length > 5)
      const lines = run.stdout.trim().split("\n")
      assert.isAtLeast(lines.length, 5)
      assert.deepStrictEqual(lines.slice(0, 3), ["1", "2", "3"])
      assert.include(run.stderr, "connected to ws://127.0.0.1")
      assert.strictEqual(run.code, 0, "Ctrl-C ends it cleanly")
      // With a close frame: the service logs the close code the client sent.
      yield* eventually(ensure(() => /"connection closed"/.test(server.running.log()), "the close is logged"))
      assert.match(server.running.log(), /"message":"connection closed".*"code":1000/)
    }))

  it.scopedLive("takes an http:// URL as the ws:// one, and says how it is used with --help", () =>
    Effect.gen(function*() {
      const server = yield* service({ FORGE_INTERVAL_MS: "20" })
      const run = yield* runCli([server.httpUrl("/_ws/")], (cli) => cli.stdout().split("\n").length > 3)
      assert.deepStrictEqual(run.stdout.trim().split("\n").slice(0, 3), ["1", "2", "3"])
      assert.include(run.stderr, "connected to ws://127.0.0.1")
      const help = yield* runCli(["--help"])
      assert.strictEqual(help.code, 0)
      assert.match(help.stdout, /^Usage: npm run -s client -- /)
      assert.include(help.stdout, "--retry-cap-ms N")
      assert.strictEqual(help.stderr, "")
    }))

  it.scopedLive("a refused path or a bad URL: one clear line and a non-zero exit", () =>
    Effect.gen(function*() {
      const server = yield* service()
      const refused = yield* runCli([server.wsUrl("/nope")])
      assert.strictEqual(refused.code, 1)
      assert.strictEqual(refused.stderr.trim().split("\n").length, 1, refused.stderr)
      assert.include(refused.stderr, "HTTP 404")
      const bad = yield* runCli(["localhost:3000"])
      assert.strictEqual(bad.code, 2)
      assert.strictEqual(bad.stderr.trim(), "Not a ws://, wss://, http:// or https:// URL: localhost:3000")
      assert.strictEqual(bad.stdout, "")
    }))

  it.scopedLive("says on stderr, once, when the service's sequence restarted under it, and misses none of the new one", () =>
    Effect.gen(function*() {
      const server = yield* restartableService({ FORGE_INTERVAL_MS: "20" })
      const cli = yield* spawnClient(["--retry-base-ms", "50", wsUrl(server.port, "/_ws/")])
      const printed = () => cli.stdout().trim().split("\n").map(Number)
      yield* eventually(ensure(() => printed().length >= 5, "integers"))
      yield* server.stop
      // What was in flight has reached the pipe once the client says it reconnects.
      yield* eventually(ensure(() => /reconnecting in/.test(cli.stderr()), "the client noticed"))
      yield* Effect.sleep(Duration.millis(100))
      const before = printed().length
      const lastSeen = printed().at(-1)!
      yield* server.restart
      // Another client keeps the new sequence going; the CLI, backing off, comes back later.
      yield* connect(wsUrl(server.port, "/_ws/"))
      yield* eventually(ensure(() => /sequence restarted/.test(cli.stderr()), "the restart is said"))
      const lines = cli.stderr().split("\n").filter((line) => line.includes("sequence restarted"))
      assert.deepStrictEqual(lines, [
        `the service's sequence restarted (the last integer of the old one was ${lastSeen}): the new one follows from its first`
      ])
      yield* eventually(ensure(() => printed().length >= before + 5, "integers of the new sequence"))
      const after = printed().slice(before)
      assert.strictEqual(after[0], 1, after.join(","))
      assert.isTrue(consecutive(after), after.join(","))
    }))

  it.scopedLive("takes the reconnect policy from its flags, and refuses a bad one with usage", () =>
    Effect.gen(function*() {
      const bad = yield* runCli(["--retry-cap-ms", "soon", "ws://127.0.0.1:1/_ws/"])
      assert.strictEqual(bad.code, 2)
      assert.include(bad.stderr, "--retry-cap-ms takes a whole number of milliseconds, not soon")
      assert.include(bad.stderr, "Usage: npm run -s client --")
      // Nothing listens on port 1: every retry is refused, and none may wait 30 ms or more.
      const capped = yield* runCli(
        ["--retry-base-ms", "10", "--retry-cap-ms", "30", "ws://127.0.0.1:1/_ws/"],
        (cli) => cli.stderr().split("reconnecting in").length > 10
      )
      const delays = [...capped.stderr.matchAll(/reconnecting in (\d+) ms/g)].map((m) => Number(m[1]))
      assert.isAtLeast(delays.length, 10)
      for (const delay of delays) assert.isBelow(delay, 30)
    }))
})
