/**
 * `npm run build`: dist/ from src/, from clean.
 *
 * 1. `tsc` compiles every module (the client library that `integer-forge/client` exports, the
 *    CLI, the declarations' checks).
 * 2. esbuild then writes dist/main.js again as one bundle of the service and what it uses of its
 *    dependencies. Node loads one file instead of about a thousand modules, most of which the
 *    service never runs (importing `effect`'s index alone took about 0.35 s here): start-up and
 *    resident memory are what a fresh instance pays at every deploy.
 *
 * 3. dist/main.js becomes scripts/serviceEntry.mjs, which turns V8's compile cache on and loads the
 *    bundle (dist/service.js); where this Node.js has that cache (22.1 and later), the build starts
 *    the service once, on a free port, to fill it, so that even the first start reuses it.
 *
 * esbuild is a production dependency, like typescript: the platform installs with
 * `npm ci --omit=dev` and then builds.
 */
import * as esbuild from "esbuild"
import { execFileSync, spawn } from "node:child_process"
import { copyFileSync, rmSync } from "node:fs"
import * as Module from "node:module"
import { fileURLToPath } from "node:url"
import { demoPageScriptModule, demoPageScriptSource } from "./demoPageScript.mjs"

const root = fileURLToPath(new URL("../", import.meta.url))
const require = Module.createRequire(import.meta.url)

/**
 * `@effect/platform-node`'s HTTP server module imports its HTTP client for a test layer, and with
 * it undici (over a megabyte). The service makes no HTTP request, and that module only touches
 * undici inside functions it never calls, so undici is left out: an empty module stands in. Were a
 * release to use undici as it loads, the service would fail to start, and the tests, which run
 * this bundle, would say so.
 */
const withoutHttpClient = {
  name: "without-http-client",
  setup(build) {
    build.onResolve({ filter: /^undici$/ }, () => ({ path: "undici", namespace: "left-out" }))
    build.onLoad({ filter: /.*/, namespace: "left-out" }, () => ({ contents: "export default {}", loader: "js" }))
  }
}

/** The demo page's script, bundled for browsers, as the module src/http/DemoPage.ts imports. */
const withDemoPageScript = {
  name: "demo-page-script",
  setup(build) {
    build.onResolve({ filter: /^integer-forge:demo-page-script$/ }, () => ({
      path: demoPageScriptModule,
      namespace: "demo-page-script"
    }))
    build.onLoad({ filter: /.*/, namespace: "demo-page-script" }, async () => ({
      contents: await demoPageScriptSource(),
      loader: "js"
    }))
  }
}

rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true })
execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
  cwd: root,
  stdio: "inherit"
})
await esbuild.build({
  absWorkingDir: root,
  entryPoints: [{ in: "src/main.ts", out: "service" }],
  outdir: "dist",
  outbase: "src",
  bundle: true,
  // Modules loaded with import() only when the configuration needs them (the shared forge and its
  // Redis client) go into chunks of their own, which a start without them never reads.
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  // Less to parse at every start; the source map keeps stack traces readable (--enable-source-maps).
  minify: process.env["BUILD_MINIFY"] !== "0",
  // The CommonJS packages bundled here (ws, ioredis, prom-client) call require() for Node's own
  // modules; an ES module has no require of its own.
  banner: {
    js:
      "import { createRequire as __createRequire } from \"node:module\"; const require = __createRequire(import.meta.url);"
  },
  // ws uses these native helpers when they are installed; this project installs neither.
  external: ["bufferutil", "utf-8-validate"],
  plugins: [withoutHttpClient, withDemoPageScript],
  logLevel: "warning"
})

copyFileSync(new URL("./serviceEntry.mjs", import.meta.url), new URL("../dist/main.js", import.meta.url))
rmSync(new URL("../dist/main.js.map", import.meta.url), { force: true })
rmSync(new URL("../dist/main.d.ts", import.meta.url), { force: true })
// @types/node follows Node.js 20, which has no compile cache.
if (/** @type {{ enableCompileCache?: unknown }} */ (Module).enableCompileCache !== undefined) await fillCompileCache()

/**
 * Starts dist/main.js on a free port of 127.0.0.1, in an environment of its own (no Redis, no
 * operator's settings), until it says it listens, then stops it: its exit writes the compile
 * cache of what a start compiles. A cache is only ever a shortcut: should this fail, the build
 * says so and goes on.
 */
async function fillCompileCache() {
  const child = spawn(process.execPath, [fileURLToPath(new URL("../dist/main.js", import.meta.url))], {
    cwd: root,
    env: { PATH: process.env["PATH"] ?? "", PORT: "0", HOST: "127.0.0.1", NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)))
  let output = ""
  const listening = new Promise((resolve) => {
    const onOutput = (chunk) => {
      output += String(chunk)
      if (/listening on \S+ port \d+/.test(output)) resolve(true)
    }
    child.stdout.on("data", onOutput)
    child.stderr.on("data", onOutput)
    void exited.then(() => resolve(false))
  })
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000)
  const listened = await listening
  child.kill("SIGTERM")
  const status = await exited
  clearTimeout(timer)
  if (!listened || status !== 0) {
    process.stderr.write(`build: the compile cache was not filled (the service exited with ${status}):\n${output}`)
  }
}
