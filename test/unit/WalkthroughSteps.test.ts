import { assert, describe, it } from "@effect/vitest"
import { comparableHead, readWalkthrough } from "../support/Walkthrough.js"

const steps = readWalkthrough()

describe("docs/walkthrough.md, run as written", () => {
  it("has the steps a reader follows", () => {
    assert.isAtLeast(steps.length, 10)
    assert.strictEqual(steps[0]!.command, "npm start")
  })

  it("compares a response head whole: a header added, left out or changed differs, the date's value does not", () => {
    const shown = ["HTTP/1.1 404 Not Found", "Connection: close", "Date: Wed, 01 Jan 2025 12:00:00 GMT"]
    const same = comparableHead(["HTTP/1.1 404 Not Found", "Connection: close", "Date: Sat, 05 Dec 2026 22:49:26 GMT"])
    assert.deepStrictEqual(same, comparableHead(shown))
    assert.notDeepEqual(comparableHead([...shown, "x-forge-refusal: path"]), comparableHead(shown))
    assert.notDeepEqual(comparableHead(shown.slice(1)), comparableHead(shown))
    assert.notDeepEqual(
      comparableHead(["HTTP/1.1 404 Not Found", "Connection: keep-alive", shown[2]!]),
      comparableHead(shown)
    )
  })
})
