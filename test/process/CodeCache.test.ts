/**
 * The code cache of the bundle (scripts/serviceEntry.mjs): a start without one writes it once it
 * has started, the next start takes it and leaves it as it is, and a cache that does not fit (a
 * corrupt one, another build's) is a shortcut not taken, never a failed or broken start. Each
 * test runs a copy of dist/ of its own, without the cache the build left.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { distCopy, serveAndStop } from "../support/ServiceProcess.js"

// The cache files of this Node.js in a copy of dist/.
const cacheFiles = (dist: string) => {
  const folder = join(dist, ".code-cache")
  if (!existsSync(folder)) return []
  return readdirSync(folder).filter((name) => name.endsWith(`-${process.version}-${process.arch}.bin`)).map((name) =>
    join(folder, name)
  )
}

// The entry writes a missing cache two seconds into a start: a start that lasts longer has
// written whatever it was going to.
const writeDelay = Duration.seconds(2)

/** A start of the copy that serves 1 and 2 and is stopped after `lasting`, exiting with 0. */
const start = (dist: string, lasting: Duration.Duration, env: Record<string, string> = {}) =>
  Effect.gen(function*() {
    // Stopped at once: these starts are about what they leave in dist/, not about a drain.
    const received = yield* serveAndStop(join(dist, "main.js"), {
      SHUTDOWN_NOTICE_MS: "0",
      SHUTDOWN_SPREAD_MS: "0",
      ...env
    }, { integers: 2, lasting })
    assert.deepStrictEqual(received.slice(0, 2), ["1", "2"])
  })

describe("the code cache", () => {
  it.scopedLive("a start without one writes it; the next start takes it and leaves it as it is", () =>
    Effect.gen(function*() {
      const dist = yield* distCopy({ withCodeCache: false })
      yield* start(dist, Duration.sum(writeDelay, Duration.millis(500)))
      const [written, ...others] = cacheFiles(dist)
      assert.isDefined(written, "the first start wrote a cache")
      assert.lengthOf(others, 0)
      // The code of what the start compiled, lazily compiled functions too, not only outlines.
      assert.isAbove(statSync(written!).size, 500_000)
      const before = { bytes: readFileSync(written!), modified: statSync(written!).mtimeMs }
      yield* start(dist, Duration.sum(writeDelay, Duration.millis(500)))
      assert.deepStrictEqual(cacheFiles(dist), [written])
      assert.isTrue(readFileSync(written!).equals(before.bytes))
      assert.strictEqual(statSync(written!).mtimeMs, before.modified, "taken, not written again")
    }))

  it.scopedLive("a corrupt cache: the start serves as any other and writes the cache anew", () =>
    Effect.gen(function*() {
      const dist = yield* distCopy({ withCodeCache: false })
      yield* start(dist, Duration.sum(writeDelay, Duration.millis(500)))
      const [written] = cacheFiles(dist)
      const garbage = Buffer.alloc(4096, 0x5a)
      writeFileSync(written!, garbage)
      yield* start(dist, Duration.sum(writeDelay, Duration.millis(500)))
      assert.isFalse(readFileSync(written!).equals(garbage), "written anew")
      assert.isAbove(statSync(written!).size, 500_000)
    }))

  it.scopedLive("another build's bundle does not take this one's cache: it starts and writes its own", () =>
    Effect.gen(function*() {
      const dist = yield* distCopy({ withCodeCache: false })
      yield* start(dist, Duration.sum(writeDelay, Duration.millis(500)))
      const [first] = cacheFiles(dist)
      const bytes = readFileSync(first!)
      // V8 checks a cache only against the length of the text it was made from.
      const bundle = join(dist, "service.js")
      writeFileSync(bundle, readFileSync(bundle, "utf8").replace("listening on", "listening at"))
      yield* start(dist, Duration.sum(writeDelay, Duration.millis(500)))
      const files = cacheFiles(dist)
      assert.lengthOf(files, 2, files.join(", "))
      assert.isTrue(readFileSync(first!).equals(bytes), "the first build's cache is left as it was")
    }))

  it.scopedLive("with the cache turned off, or source maps on, a start serves as any other and writes none", () =>
    Effect.gen(function*() {
      const dist = yield* distCopy({ withCodeCache: false })
      yield* start(dist, Duration.sum(writeDelay, Duration.millis(500)), { NODE_DISABLE_COMPILE_CACHE: "1" })
      yield* start(dist, Duration.sum(writeDelay, Duration.millis(500)), { NODE_OPTIONS: "--enable-source-maps" })
      assert.deepStrictEqual(cacheFiles(dist), [])
    }))
})
