import { defineConfig, type Plugin } from "vitest/config"
import { demoPageScriptModule, demoPageScriptSource } from "./scripts/demoPageScript.mjs"

/** The demo page's script for the in-process server, bundled exactly as scripts/build.mjs does. */
const demoPageScript: Plugin = {
  name: "demo-page-script",
  resolveId: (id) => id === demoPageScriptModule ? `\0${id}` : undefined,
  load: (id) => id === `\0${demoPageScriptModule}` ? demoPageScriptSource() : undefined
}

// The tests mostly wait on sockets and processes, so files run side by side even on 2 cores;
// the deploy drills judge latency under a proxy and run last, alone.
const drills = "test/process/DeployDrill.test.ts"

export default defineConfig({
  plugins: [demoPageScript],
  test: {
    globalSetup: ["test/globalSetup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    maxWorkers: 4,
    minWorkers: 1,
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ["default", "json"],
    outputFile: { json: "test-results/vitest.json" },
    projects: [
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      { extends: true, test: { name: "service", include: ["test/service/**/*.test.ts"] } },
      { extends: true, test: { name: "process", include: ["test/process/**/*.test.ts"], exclude: [drills] } },
      { extends: true, test: { name: "drills", include: [drills], sequence: { groupOrder: 1 } } }
    ]
  }
})
