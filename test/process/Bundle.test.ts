/**
 * The shape of the bundle a start loads (scripts/build.mjs): the Redis client is evaluated only by
 * an instance configured with a Redis (the shared forge imports it as it opens its first connection).
 * V8's own coverage of a start says which of the bundle's functions ran: the module of ioredis
 * that holds one of its messages must not have, unless a Redis is configured.
 *
 * The starts run a copy of dist/ of their own, so that a code cache they would write under coverage
 * stays there.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { redisServer } from "../support/RedisServer.js"
import { repoPath } from "../support/RepoPaths.js"
import { distCopy, serveAndStop } from "../support/ServiceProcess.js"
import { temporaryFolder } from "../support/TemporaryFolder.js"

const bundle = repoPath("dist/service.js")
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
    const dist = yield* distCopy({ withCodeCache: true })
    yield* serveAndStop(join(dist, "main.js"), { NODE_V8_COVERAGE: folder, ...env }, { integers: 1 })
    const scripts = readdirSync(folder).flatMap((name) =>
      (JSON.parse(readFileSync(join(folder, name), "utf8")) as {
        result: ReadonlyArray<{ url: string; functions: ReadonlyArray<FunctionCoverage> }>
      }).result
    )
    const covered = scripts.find((script) => script.url.endsWith("/dist/service.js"))
    assert.isDefined(covered, scripts.map((script) => script.url).join("\n"))
    return covered!.functions
  }).pipe(Effect.scoped)

/**
 * How often the module that holds `offset` was evaluated: the count of the outermost function
 * around it that begins after the bundle's first line, the function that holds all of them (a
 * module of the bundle is a function that runs once, when its first importer needs it). 0 where
 * V8 reports no such function: it never compiled it.
 */
const evaluations = (functions: ReadonlyArray<FunctionCoverage>, offset: number, firstLineEnd: number) => {
  const around = functions.map((f) => f.ranges[0]!).filter((r) => r.startOffset <= offset && offset < r.endOffset)
  assert.isTrue(around.some((r) => r.startOffset <= firstLineEnd && r.count === 1), "the bundle's own function ran")
  const modules = around.filter((r) => r.startOffset > firstLineEnd)
    .sort((a, b) => (b.endOffset - b.startOffset) - (a.endOffset - a.startOffset))
  return modules[0]?.count ?? 0
}

describe("the bundle", () => {
  const text = readFileSync(bundle, "utf8")
  const offset = text.indexOf(ioredisMarker)
  const firstLineEnd = text.indexOf("\n")

  it.scopedLive("a start without a Redis never evaluates the Redis client", () =>
    Effect.gen(function*() {
      assert.isAbove(offset, 0, "ioredis is in the bundle")
      assert.strictEqual(evaluations(yield* coverageOfAStart({}), offset, firstLineEnd), 0)
    }))

  it.scopedLive("a start with a Redis evaluates it, once", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      assert.strictEqual(evaluations(yield* coverageOfAStart({ REDIS_URL: redis.url }), offset, firstLineEnd), 1)
    }))
})
