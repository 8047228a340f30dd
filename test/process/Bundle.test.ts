/**
 * The shape of the bundle a start loads (scripts/build.mjs): the Redis client is compiled and
 * evaluated only by an instance configured with a Redis (`ForgeChoice` imports the shared forge
 * when it chooses it), so it must not be reachable through the static imports of dist/service.js.
 * The Redis tests (test/process/RedisForge.test.ts) run the chunk it is in.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { repoPath } from "../support/RepoPaths.js"

// Every file the module at `path` loads before it runs (its static imports, transitively).
const staticallyLoaded = (path: string, seen = new Set<string>()): Set<string> => {
  if (seen.has(path)) return seen
  seen.add(path)
  const source = readFileSync(path, "utf8")
  for (const [, target] of source.matchAll(/(?:^|[;}\s])import\s*(?:[^"'();]*?from\s*)?"(\.[^"]+)"/g)) {
    staticallyLoaded(join(dirname(path), target!), seen)
  }
  return seen
}

// A message of ioredis's own, kept by the minifier as it is a string.
const ioredisMarker = "max retries per request"

describe("the bundle", () => {
  it.effect("loads no Redis client at start: ioredis is in a chunk that only the shared forge imports", () =>
    Effect.sync(() => {
      const entry = repoPath("dist/service.js")
      const loaded = [...staticallyLoaded(entry)]
      assert.isAtLeast(loaded.length, 2, "the entry and the chunk it shares with the lazy one")
      for (const file of loaded) assert.notInclude(readFileSync(file, "utf8"), ioredisMarker, file)
      const lazy = [...readFileSync(entry, "utf8").matchAll(/import\("(\.[^"]+)"\)/g)].map(([, target]) =>
        join(dirname(entry), target!)
      )
      assert.isTrue(lazy.some((file) => readFileSync(file, "utf8").includes(ioredisMarker)), lazy.join(", "))
    }))
})
