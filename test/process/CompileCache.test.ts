/**
 * V8's compile cache for the bundle (scripts/serviceEntry.mjs, scripts/build.mjs): the build
 * fills it where this Node.js has one (22.1 and later), and a cache that does not fit (corrupt,
 * another build's) is a shortcut not taken, never a failed or broken start. On Node.js 20 there is
 * no cache, and the service starts as it always did.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect } from "effect"
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import * as Module from "node:module"
import { join } from "node:path"
import { ensure, eventually } from "../support/Eventually.js"
import { wsUrl } from "../support/LocalUrls.js"
import { repoPath } from "../support/RepoPaths.js"
import { spawnService, waitForPort } from "../support/ServiceProcess.js"
import { temporaryFolder } from "../support/TemporaryFolder.js"
import { connect } from "../support/WebSocketClient.js"

// @types/node follows Node.js 20, which has no compile cache.
const hasCompileCache = typeof (Module as { readonly enableCompileCache?: unknown }).enableCompileCache === "function"

// Every cache file under dist/.compile-cache, with its size.
const cacheFiles = (dist: string) => {
  const root = join(dist, ".compile-cache")
  if (!existsSync(root)) return []
  return readdirSync(root).flatMap((line) =>
    readdirSync(join(root, line)).map((name) => {
      const path = join(root, line, name)
      return { path, bytes: statSync(path).size }
    })
  )
}

describe("the compile cache", () => {
  it.effect(`the build ${hasCompileCache ? "fills it for this Node.js" : "leaves none on Node.js 20"}`, () =>
    Effect.sync(() => {
      const files = cacheFiles(repoPath("dist"))
      if (!hasCompileCache) return assert.lengthOf(files, 0)
      const folder = readdirSync(repoPath("dist/.compile-cache"))
      assert.include(folder.join(" "), process.version, "one folder per Node.js version")
      // The code of the bundle's two files that every start loads, lazily compiled functions too.
      assert.isAtLeast(files.filter((f) => f.bytes > 50_000).length, 2, JSON.stringify(files))
    }))

  it.scopedLive("a start with a corrupt cache serves as any other, and replaces the cache", () =>
    Effect.gen(function*() {
      const dist = join(yield* temporaryFolder("compile-cache-"), "dist")
      cpSync(repoPath("dist"), dist, { recursive: true, filter: (path) => !path.endsWith(".compile-cache") })
      const start = Effect.gen(function*() {
        const service = yield* spawnService({ PORT: "0", HOST: "127.0.0.1", FORGE_INTERVAL_MS: "20" }, [], {
          main: join(dist, "main.js")
        })
        const port = yield* waitForPort(service)
        const client = yield* connect(wsUrl(port, "/_ws/"))
        yield* eventually(ensure(() => client.received.length >= 2, "integers"))
        assert.deepStrictEqual(client.received.slice(0, 2), ["1", "2"])
        service.kill("SIGTERM")
        assert.strictEqual((yield* Deferred.await(service.exited)).code, 0, service.output())
      }).pipe(Effect.scoped)
      // The cache's entries are named after the files' paths: this copy's first start writes its own.
      yield* start
      const garbage = Buffer.alloc(4096, 0x5a)
      const written = cacheFiles(dist)
      if (hasCompileCache) assert.isAtLeast(written.length, 2, "the first start filled the cache")
      else assert.lengthOf(written, 0)
      for (const { path } of written) writeFileSync(path, garbage)
      yield* start
      for (const { path } of written) assert.isFalse(readFileSync(path).equals(garbage), `${path} was written anew`)
    }))
})
