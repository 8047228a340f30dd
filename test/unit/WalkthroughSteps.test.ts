import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { parseWalkthrough } from "../support/Walkthrough.js"

const steps = parseWalkthrough(readFileSync(new URL("../../docs/walkthrough.md", import.meta.url), "utf8"))

describe("docs/walkthrough.md, run as written", () => {
  it("has the steps a reader follows", () => {
    assert.isAtLeast(steps.length, 10)
    assert.strictEqual(steps[0]!.command, "npm start")
  })
})
