import { assert, describe, it } from "@effect/vitest"
import { comparableHead, parseWalkthrough, readWalkthrough } from "../support/Walkthrough.js"

const steps = readWalkthrough()

describe("docs/walkthrough.md, run as written", () => {
  it("reads a step from each command block followed at once by its output, and nothing else", () => {
    const markdown = [
      "# Title",
      "",
      "## 1. One",
      "",
      "```sh",
      "npm start",
      "```",
      "",
      "```text",
      "started",
      "```",
      "",
      "## 2. Two",
      "",
      "```sh",
      "no output shown",
      "```",
      "",
      "Prose.",
      "",
      "```text",
      "not its output",
      "```",
      "",
      "```sh",
      "curl -s x",
      "```",
      "```text",
      "a",
      "b",
      "```",
      "",
      "```js",
      "not a command",
      "```",
      ""
    ].join("\n")
    assert.deepStrictEqual(parseWalkthrough(markdown), [
      { section: "1. One", command: "npm start", expected: "started" },
      { section: "2. Two", command: "curl -s x", expected: "a\nb" }
    ])
    assert.strictEqual(steps[0]!.command, "npm start", "the walkthrough starts the service first")
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
