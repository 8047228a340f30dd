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
 * 3. dist/main.js becomes scripts/serviceEntry.mjs, which compiles the bundle (dist/service.js)
 *    with V8's code cache in dist/.code-cache; the build starts the service once, on a free port,
 *    and connects to it, so that even the first start on this Node.js reuses what a start compiles.
 *
 * esbuild is a production dependency, like typescript: the platform installs with
 * `npm ci --omit=dev` and then builds.
 */
import * as esbuild from "esbuild"
import { execFileSync, spawn } from "node:child_process"
import { copyFileSync, existsSync, readdirSync, rmSync } from "node:fs"
import * as Module from "node:module"
import { fileURLToPath } from "node:url"
import { WebSocket } from "ws"
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
  entryPoints: ["src/main.ts"],
  outfile: "dist/service.js",
  bundle: true,
  platform: "node",
  // A CommonJS module inside the function Node.js would wrap it in: a script whose value is that
  // function, which dist/main.js compiles with a code cache (V8 takes one for a script, not for
  // an ES module) and calls. The wrapper is part of the file, so that the text V8 compiles is the
  // file's own, read once: no copy of 760 KB to build it, left for the next full collection.
  format: "cjs",
  banner: { js: "(function (exports, require, module, __filename, __dirname) {" },
  footer: { js: "})" },
  target: "node20",
  sourcemap: "linked",
  // Less to parse at every start; the source map keeps stack traces readable (--enable-source-maps).
  minify: process.env["BUILD_MINIFY"] !== "0",
  // ws uses these native helpers when they are installed; this project installs neither.
  external: ["bufferutil", "utf-8-validate"],
  plugins: [withoutHttpClient, withDemoPageScript],
  logLevel: "warning"
})

copyFileSync(new URL("./serviceEntry.mjs", import.meta.url), new URL("../dist/main.js", import.meta.url))
rmSync(new URL("../dist/main.js.map", import.meta.url), { force: true })
rmSync(new URL("../dist/main.d.ts", import.meta.url), { force: true })
await fillCodeCache()

/**
 * Starts dist/main.js on a free port of 127.0.0.1, in an environment of its own (no Redis, no
 * operator's settings), until it says it listens, takes one integer over a WebSocket, and waits
 * for the code cache of what that compiled (dist/main.js writes it two seconds into a start
 * without one), then stops it. A cache is only ever a shortcut: should this fail, the build says
 * so and goes on.
 */
async function fillCodeCache() {
  const child = spawn(process.execPath, [fileURLToPath(new URL("../dist/main.js", import.meta.url))], {
    cwd: root,
    env: {
      PATH: process.env["PATH"] ?? "",
      PORT: "0",
      HOST: "127.0.0.1",
      NODE_ENV: "production",
      FORGE_INTERVAL_MS: "20"
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)))
  let output = ""
  /** @type {Promise<number | undefined>} */
  const listening = new Promise((resolve) => {
    const onOutput = (chunk) => {
      output += String(chunk)
      const port = /listening on \S+ port (\d+)/.exec(output)?.[1]
      if (port !== undefined) resolve(Number(port))
    }
    child.stdout.on("data", onOutput)
    child.stderr.on("data", onOutput)
    void exited.then(() => resolve(undefined))
  })
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000)
  const port = await listening
  const filled = port !== undefined && (await oneInteger(port)) && (await cacheWritten(exited))
  child.kill("SIGTERM")
  const status = await exited
  clearTimeout(timer)
  if (!filled || status !== 0) {
    process.stderr.write(`build: the code cache was not filled (the service exited with ${status}):\n${output}`)
  }
}

/** @param {number} port */
function oneInteger(port) {
  return new Promise((resolve) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/_ws/`)
    socket.once("message", () => {
      socket.close()
      resolve(true)
    })
    // Refused, or closed before its first integer (the build's timer killed the service):
    // either way there is nothing to wait for.
    socket.once("error", () => resolve(false))
    socket.once("close", () => resolve(false))
  })
}

/** Whether a cache for this Node.js appears in dist/.code-cache before the service exits. */
async function cacheWritten(exited) {
  let gone = false
  void exited.then(() => (gone = true))
  const folder = new URL("../dist/.code-cache/", import.meta.url)
  while (!gone) {
    if (
      existsSync(folder) && readdirSync(folder).some((name) => name.endsWith(`-${process.version}-${process.arch}.bin`))
    ) {
      return true
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return false
}
