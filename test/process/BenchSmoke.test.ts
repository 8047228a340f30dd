/**
 * A smoke run of the benchmark harness (scripts/bench/, `npm run bench`), so that it cannot rot
 * while the service changes: the runner, with a few clients for half a second, measures the
 * built service and the ws baseline and writes its Markdown and chart to a temporary directory.
 * It checks that the harness works end to end, not the figures, which mean nothing at this size.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect } from "effect"
import { readFileSync } from "node:fs"
import * as Path from "node:path"
import { repoPath } from "../support/RepoPaths.js"
import { spawnProcess } from "../support/SpawnedProcess.js"
import { temporaryFolder } from "../support/TemporaryFolder.js"

const runner = repoPath("scripts/bench/run.mjs")

interface StreamResult {
  readonly opened: number
  readonly failures: number
  readonly integersInWindow: number
  readonly incompleteIntegers: number
  readonly missing: number
  readonly repeats: number
  readonly cpuUsPerMessage: number
  readonly serverRunning: boolean
}

interface Results {
  readonly rounds: ReadonlyArray<{ readonly fanout: Record<string, StreamResult> }>
  readonly errors: ReadonlyArray<unknown>
}

const temporaryDirectory = temporaryFolder("bench-smoke-")

/** Runs the runner to its end. */
const runBench = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    // SIGTERM if the test ends first, not SIGKILL: the runner then stops the servers it started.
    const bench = yield* spawnProcess(process.execPath, [runner, ...args], { stopSignal: "SIGTERM" })
    const { code } = yield* Deferred.await(bench.exited).pipe(
      Effect.timeoutFail({
        duration: Duration.seconds(25),
        onTimeout: () => new Error(`bench did not finish:\n${bench.output()}`)
      })
    )
    return { code, output: bench.output() }
  })

describe("benchmark harness", () => {
  it.scopedLive("measures the service and the baseline and writes the results and the chart", () =>
    Effect.gen(function*() {
      const dir = yield* temporaryDirectory
      const markdown = Path.join(dir, "benchmarks.md")
      const chart = Path.join(dir, "benchmarks.svg")
      const json = Path.join(dir, "results.json")
      const { code, output } = yield* runBench(["--smoke", "--out", markdown, "--chart", chart, "--json", json])
      assert.strictEqual(code, 0, output)

      const results = JSON.parse(readFileSync(json, "utf8")) as Results
      assert.deepStrictEqual(results.errors, [])
      for (const kind of ["ours", "baseline"]) {
        const run = results.rounds[0]!.fanout[kind]!
        assert.strictEqual(run.opened, 3, kind)
        assert.strictEqual(run.failures, 0, kind)
        assert.isTrue(run.serverRunning, kind)
        // Half a second at one integer per 10 ms: every client gets every one, in order.
        assert.isAbove(run.integersInWindow, 10, kind)
        assert.strictEqual(run.incompleteIntegers, 0, kind)
        assert.strictEqual(run.missing, 0, kind)
        assert.strictEqual(run.repeats, 0, kind)
        assert.isTrue(Number.isFinite(run.cpuUsPerMessage), kind)
      }

      const document = readFileSync(markdown, "utf8")
      assert.include(document, "<!-- bench:results:start")
      assert.include(document, "| Figure | Integer Forge | ws baseline | Ratio | Target |")
      assert.include(document, "![Integer Forge relative to the ws baseline](benchmarks.svg)")
      assert.match(readFileSync(chart, "utf8"), /^<svg [^>]*>[\s\S]*<\/svg>\n$/)
    }))
})
