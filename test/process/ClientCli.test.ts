import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { startServer } from "../support/TestServer.js"

const clientScript = fileURLToPath(new URL("../../dist/client/cli.js", import.meta.url))

/** Runs `npm run client`'s script with the given arguments, stopping it by PID after `ms`. */
const runCli = (args: ReadonlyArray<string>, ms: number) =>
  Effect.async<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>((resume) => {
    const child = spawn(process.execPath, [clientScript, ...args], { stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += String(d)))
    child.stderr.on("data", (d) => (stderr += String(d)))
    const timer = setTimeout(() => child.kill("SIGINT"), ms)
    child.on("exit", (code) => {
      clearTimeout(timer)
      resume(Effect.succeed({ code, stdout, stderr }))
    })
    return Effect.sync(() => child.kill("SIGKILL"))
  })

describe("npm run client", () => {
  it.live("prints each integer on its own line, and reports on stderr", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20 })
      const run = yield* runCli([server.wsUrl("/_ws/")], 1500)
      const lines = run.stdout.trim().split("\n")
      assert.isAtLeast(lines.length, 5)
      assert.deepStrictEqual(lines.slice(0, 3), ["1", "2", "3"])
      assert.include(run.stderr, "connected to ws://127.0.0.1")
      assert.strictEqual(run.code, 0, "Ctrl-C ends it cleanly")
    }).pipe(Effect.scoped))

  it.live("a refused path or a bad URL: one clear line and a non-zero exit", () =>
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
    }).pipe(Effect.scoped))
})
