import { assert, describe, it } from "@effect/vitest"
import { readWalkthrough } from "../support/Walkthrough.js"

const steps = readWalkthrough()

describe("docs/walkthrough.md, run as written", () => {
  it("has the steps a reader follows", () => {
    assert.isAtLeast(steps.length, 10)
    assert.strictEqual(steps[0]!.command, "npm start")
  })
})
