/**
 * The bundle a start loads (dist/main.cjs, scripts/build.mjs), as it ships:
 * - the Redis client is evaluated only by an instance configured with a Redis (the shared forge
 *   imports it as it opens its first connection). V8's own coverage of a start says which of the
 *   bundle's functions ran: the module of ioredis that holds one of its messages must not have,
 *   unless a Redis is configured;
 * - stack traces through the minified bundle name the source files and lines.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { redisServer } from "../support/RedisServer.js"
import { repoPath } from "../support/RepoPaths.js"
import { serveAndStop } from "../support/ServiceProcess.js"
import { spawnProcess } from "../support/SpawnedProcess.js"
import { temporaryFolder } from "../support/TemporaryFolder.js"

const bundle = repoPath("dist/main.cjs")
// A message of ioredis's own, kept by the minifier as it is a string.
const ioredisMarker = "max retries per request"

interface Range {
  readonly startOffset: number
  readonly endOffset: number
  readonly count: number
}
interface FunctionCoverage {
  readonly ranges: ReadonlyArray<Range>
}

/** V8's coverage of the bundle in a start of the service (serving one integer) with `env`. */
const coverageOfAStart = (env: Record<string, string>) =>
  Effect.gen(function*() {
    const folder = yield* temporaryFolder("bundle-coverage-")
    yield* serveAndStop({ NODE_V8_COVERAGE: folder, ...env }, 1)
    const scripts = readdirSync(folder).flatMap((name) =>
      (JSON.parse(readFileSync(join(folder, name), "utf8")) as {
        result: ReadonlyArray<{ url: string; functions: ReadonlyArray<FunctionCoverage> }>
      }).result
    )
    const covered = scripts.find((script) => script.url.endsWith("/dist/main.cjs"))
    assert.isDefined(covered, scripts.map((script) => script.url).join("\n"))
    return covered!.functions
  }).pipe(Effect.scoped)

/**
 * How often the module that holds `offset` was evaluated: the count of the outermost function
 * around it other than the bundle's top level (a CommonJS module of the bundle is a function that
 * runs once, when it is first required). 0 where V8 reports no such function: it never compiled it.
 */
const evaluations = (functions: ReadonlyArray<FunctionCoverage>, offset: number) => {
  const around = functions.map((f) => f.ranges[0]!).filter((r) => r.startOffset <= offset && offset < r.endOffset)
  assert.isTrue(around.some((r) => r.startOffset === 0 && r.count === 1), "the bundle's top level ran")
  const modules = around.filter((r) => r.startOffset > 0)
    .sort((a, b) => (b.endOffset - b.startOffset) - (a.endOffset - a.startOffset))
  return modules[0]?.count ?? 0
}

/** The 1-based line and column of `text`'s first occurrence in `inside`. */
const position = (inside: string, text: string) => {
  const lines = inside.split("\n")
  const line = lines.findIndex((l) => l.includes(text))
  assert.isAtLeast(line, 0, text)
  return { line: line + 1, column: lines[line]!.indexOf(text) + 1 }
}

describe("the bundle", () => {
  const text = readFileSync(bundle, "utf8")
  const offset = text.indexOf(ioredisMarker)

  it.scopedLive("a start without a Redis never evaluates the Redis client", () =>
    Effect.gen(function*() {
      assert.isAbove(offset, 0, "ioredis is in the bundle")
      assert.strictEqual(evaluations(yield* coverageOfAStart({}), offset), 0)
    }))

  it.scopedLive("a start with a Redis evaluates it, once", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      assert.strictEqual(evaluations(yield* coverageOfAStart({ REDIS_URL: redis.url }), offset), 1)
    }))

  it.scopedLive("a stack trace through the bundle names the source file and line", () =>
    Effect.gen(function*() {
      // Where the bundle logs a failed upgrade, and where the source does.
      const message = "Upgrade handling failed"
      const inBundle = position(text, message)
      const inSource = position(readFileSync(repoPath("src/edge/WebSocketEdge.ts"), "utf8"), message)
      // The shipped bundle, started by a script that then formats a stack trace with a frame at
      // that place, as V8 hands a CommonJS module's frames over.
      const url = pathToFileURL(bundle).href
      const script = `
        process.env.PORT = "0"; process.env.HOST = "127.0.0.1"
        await import(${JSON.stringify(url)})
        const at = ${JSON.stringify(`${bundle}:${inBundle.line}:${inBundle.column}`)}
        const frame = {
          getFileName: () => ${JSON.stringify(bundle)},
          getLineNumber: () => ${inBundle.line},
          getColumnNumber: () => ${inBundle.column},
          toString: () => "onUpgrade (" + at + ")"
        }
        console.log(Error.prepareStackTrace(new Error("probe"), [frame]))
        process.exit(0)
      `
      const probe = yield* spawnProcess(process.execPath, ["--input-type=module", "-e", script], {
        cwd: repoPath("."),
        env: { LOG_LEVEL: "Error" }
      })
      const exit = yield* Deferred.await(probe.exited)
      assert.strictEqual(exit.code, 0, probe.output())
      const mapped = `${repoPath("src/edge/WebSocketEdge.ts")}:${inSource.line}:`
      assert.include(probe.stdout(), `Error: probe\n    at onUpgrade (${mapped}`, probe.output())
    }))
})
