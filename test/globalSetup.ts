/**
 * Builds dist/ once before the tests, exactly as `npm run build` does (from clean, with the
 * bundled dist/main.cjs), so that the tests which run the service as a process (`npm start`,
 * `node dist/main.cjs`) always run the code under test, as it ships.
 */
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"

export default function setup() {
  execFileSync(process.execPath, [fileURLToPath(new URL("../scripts/build.mjs", import.meta.url))], {
    stdio: "inherit"
  })
}
