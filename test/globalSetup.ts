/**
 * Builds dist/ once before the tests, so that the tests which run the service as a process
 * (`node dist/main.js`, as `npm start` does) always run the code under test.
 */
import { execFileSync } from "node:child_process"
import { rmSync } from "node:fs"
import { createRequire } from "node:module"

export default function setup() {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc")
  // From clean, as `npm run build` does: a module moved in src/ must not live on in dist/.
  rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true })
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { stdio: "inherit" })
}
