/**
 * `npm run build`: dist/ from src/, from clean.
 *
 * 1. `tsc` compiles every module (the client library that `integer-forge/client` exports, the
 *    CLI, the declarations' checks).
 * 2. esbuild writes dist/main.cjs, what `npm start` runs: one minified bundle of the service and
 *    what it uses of its dependencies, with its source map beside it (read only when a stack
 *    trace is formatted: src/ops/SourceMappedStacks.ts); tsc's unbundled dist/main.js goes. Node
 *    loads one file instead of about a thousand modules, most of which the service never runs
 *    (importing `effect`'s index alone took about 0.35 s here): start-up and resident memory are
 *    what a fresh instance pays at every deploy.
 *
 * esbuild is a production dependency, like typescript: the platform installs with
 * `npm ci --omit=dev`, which builds.
 */
import * as esbuild from "esbuild"
import { execFileSync } from "node:child_process"
import { rmSync } from "node:fs"
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
  entryPoints: ["src/main.ts"],
  outfile: "dist/main.cjs",
  bundle: true,
  platform: "node",
  // CommonJS: on Node.js 26 the same bundle as an ES module held 10 MiB more after start.
  format: "cjs",
  // The module's own URL, which src/main.ts reads as an ES module does.
  banner: { js: "const importMetaUrl = require(\"node:url\").pathToFileURL(__filename).href;" },
  define: { "import.meta.url": "importMetaUrl" },
  target: "node20",
  sourcemap: "linked",
  // Stack traces need the mappings, not the sources.
  sourcesContent: false,
  minify: true,
  // ws uses these native helpers when they are installed; this project installs neither.
  external: ["bufferutil", "utf-8-validate"],
  plugins: [withoutHttpClient, withDemoPageScript],
  logLevel: "warning"
})
for (const file of ["main.js", "main.js.map", "main.d.ts"]) {
  rmSync(new URL(`../dist/${file}`, import.meta.url), { force: true })
}
