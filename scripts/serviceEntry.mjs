/**
 * dist/main.js, the file `npm start` runs: it loads the bundled service (dist/service.js) with a
 * V8 code cache of its own. scripts/build.mjs copies it there.
 *
 * Most of a start used to go to compiling the bundle (about 800 KB of JavaScript) and then each
 * function the start runs, lazily, as it first runs. V8 can hand back the code of a script it has
 * compiled, functions compiled since included (`script.createCachedData()`), and take it again
 * at the next start (`cachedData`). So this entry compiles the bundle as a `vm.Script` with the
 * cache of the previous start, runs it, and, when there was no usable cache, writes one two
 * seconds later, once the start and its first connections have compiled what they use. The build
 * fills it in the same way (it starts the service once and connects to it).
 *
 * The cache lives in dist/.code-cache, one file per bundle (a hash of its bytes: V8 itself checks
 * only the length of the text), Node.js version and architecture. V8 refuses a cache made by another V8 or
 * with other flags, or one that is corrupt; the bundle is then compiled as without a cache, and
 * the cache is written anew. Where dist/ cannot be written, starts compile as without it. With
 * NODE_DISABLE_COMPILE_CACHE=1 (Node.js's own switch for its cache) there is none; with source
 * maps on (--enable-source-maps), the bundle is loaded by Node.js's own loader, which applies
 * them, and there is none either.
 *
 * This file cannot be part of the bundle: it is what compiles the bundle.
 */
import { createHash } from "node:crypto"
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import * as NodeModule from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Script } from "node:vm"

const bundle = fileURLToPath(new URL("./service.js", import.meta.url))
const require = NodeModule.createRequire(bundle)
const { source, digest } = readBundle()
const cacheDisabled = process.env["NODE_DISABLE_COMPILE_CACHE"] === "1"
// @types/node follows Node.js 20.0, which did not have it yet (20.7 does).
const sourceMaps = /** @type {{ sourceMapsEnabled?: boolean }} */ (process).sourceMapsEnabled === true

const module = { exports: {} }
const serviceModule = cacheDisabled || sourceMaps ? compiledByNode() : compiledWithCache()
serviceModule.call(module.exports, module.exports, require, module, bundle, dirname(bundle))

/**
 * The bundle's text, and the hash of its bytes that names its cache. The bytes are hashed as read:
 * hashing the text made Node.js encode it to UTF-8 again, into a buffer three times its length
 * (2.2 MB) that was freed at once, and freeing a block that large raises glibc's thresholds for
 * giving freed memory back, so that about 1.7 MB the start freed later stayed resident (Node.js
 * 20; less on 26). The bytes are garbage once the text is made.
 *
 * @returns {{ source: string, digest: string }}
 */
function readBundle() {
  const bytes = readFileSync(bundle)
  return { source: bytes.toString("utf8"), digest: createHash("sha1").update(bytes).digest("hex") }
}

/**
 * The bundle's function, compiled with the cache of a previous start where there is one that V8
 * takes; where there is none, the cache is written two seconds later.
 *
 * @returns {Function}
 */
function compiledWithCache() {
  const cacheFile = join(
    dirname(bundle),
    ".code-cache",
    `${digest.slice(0, 20)}-${process.version}-${process.arch}.bin`
  )
  /** @type {Buffer | undefined} */
  let cachedData
  try {
    cachedData = readFileSync(cacheFile)
  } catch {
    // None yet: compiled as without one, and written below.
  }
  const script = new Script(source, { filename: bundle, cachedData })
  if (cachedData === undefined || script.cachedDataRejected === true) {
    setTimeout(() => writeCache(script, cacheFile), 2000).unref()
  }
  return script.runInThisContext()
}

/**
 * The bundle's function, compiled by Node.js's CommonJS loader, which applies the source map
 * when source maps are on. The assignment goes on the wrapper's line, which holds no code of the
 * bundle, so that every line and column stays where the source map has it.
 *
 * @returns {Function}
 */
function compiledByNode() {
  const Module =
    /** @type {new (id: string) => { filename: string, paths: string[], exports: unknown, _compile: (content: string, filename: string) => void }} */ (
      /** @type {unknown} */ (NodeModule.Module)
    )
  const paths = /** @type {{ _nodeModulePaths: (from: string) => string[] }} */ (
    /** @type {unknown} */ (NodeModule.Module)
  )._nodeModulePaths(dirname(bundle))
  const loader = new Module(bundle)
  loader.filename = bundle
  loader.paths = paths
  loader._compile(`module.exports = ${source}`, bundle)
  return /** @type {Function} */ (loader.exports)
}

/**
 * Writes the code V8 holds for the bundle now. Through a file of this process's own, renamed into
 * place, so that two instances starting together never leave half a cache. A cache is only a
 * shortcut: a failure to write it is no failure of the service.
 *
 * @param {Script} script
 * @param {string} cacheFile
 */
function writeCache(script, cacheFile) {
  const partial = `${cacheFile}.${process.pid}`
  try {
    mkdirSync(dirname(cacheFile), { recursive: true })
    writeFileSync(partial, script.createCachedData())
    renameSync(partial, cacheFile)
  } catch {
    rmSync(partial, { force: true })
  }
}
