/**
 * The demo page's script (src/client/DemoPageScript.ts), bundled for browsers with what it imports
 * of the client's reconnect policy. The page carries it inline: src/http/DemoPage.ts imports it as
 * the default export of the module `demoPageScriptModule` names. Two builds resolve that module
 * with the same bundle: esbuild's for dist/main.cjs (scripts/build.mjs) and Vite's for the tests
 * (vitest.config.ts), so the in-process server serves the very script the shipped one does.
 */
import * as esbuild from "esbuild"
import { fileURLToPath } from "node:url"

export const demoPageScriptModule = "integer-forge:demo-page-script"

const entry = fileURLToPath(new URL("../src/client/DemoPageScript.ts", import.meta.url))

/** The bundled script, as text. */
export const buildDemoPageScript = async () => {
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    // What the browsers of the last few years run, without a transform of async or classes.
    target: ["es2020"],
    minify: true,
    logLevel: "warning"
  })
  const text = result.outputFiles[0].text
  // The page carries the script inline: this sequence would end its <script> element early.
  if (/<\/script/i.test(text)) throw new Error("the demo page's script contains </script")
  return text
}

/** The module's source: the script as its default export. */
export const demoPageScriptSource = async () => `export default ${JSON.stringify(await buildDemoPageScript())}`
