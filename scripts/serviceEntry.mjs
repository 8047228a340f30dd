/**
 * dist/main.js, the file `npm start` runs: it turns on V8's compile cache, then loads the bundled
 * service (dist/service.js). scripts/build.mjs copies it there.
 *
 * A start spends much of its time compiling the bundle (about 600 KB of JavaScript) before any of
 * it runs. With the cache (Node.js 22.1 and later), V8 reuses the code it compiled at the previous
 * start, or when the build filled the cache, from dist/.compile-cache: one folder per Node.js
 * version and V8 flags, each entry checked against the source it was made from, so a stale or
 * foreign entry is ignored and written anew. On Node.js 20, which has no such cache, or where the
 * folder cannot be written, the bundle is compiled as it always was. NODE_DISABLE_COMPILE_CACHE=1
 * turns it off; a NODE_COMPILE_CACHE of the operator's takes precedence.
 *
 * This file cannot be part of the bundle: V8 compiles a module whole before running any of it,
 * and the cache must be on before the bundle is compiled.
 */
import * as NodeModule from "node:module"
import { fileURLToPath } from "node:url"

// @types/node follows Node.js 20, which has neither function.
const Module = /** @type {{ enableCompileCache?: (dir: string) => unknown, flushCompileCache?: () => void }} */ (
  /** @type {unknown} */ (NodeModule)
)
Module.enableCompileCache?.(fileURLToPath(new URL("./.compile-cache", import.meta.url)))
// @ts-expect-error dist/service.js, the bundle, is beside this file once it is copied to dist/.
await import("./service.js")
// The cache is written when the process exits; written now too, once the start-up code has run,
// so that a process stopped by SIGKILL (an orchestrator's last resort) leaves it behind as well.
setTimeout(() => Module.flushCompileCache?.(), 2000).unref()
