import { defineConfig, type Plugin } from "vitest/config"
import { demoPageScriptModule, demoPageScriptSource } from "./scripts/demoPageScript.mjs"

/** The demo page's script for the in-process server, bundled exactly as scripts/build.mjs does. */
const demoPageScript: Plugin = {
  name: "demo-page-script",
  resolveId: (id) => id === demoPageScriptModule ? `\0${id}` : undefined,
  load: (id) => id === `\0${demoPageScriptModule}` ? demoPageScriptSource() : undefined
}

export default defineConfig({
  plugins: [demoPageScript],
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/globalSetup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ["default", "json"],
    outputFile: { json: "test-results/vitest.json" }
  }
})
