import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { makeBatchedOutput } from "../../src/ops/LogOutput.js"

describe("batched log output", () => {
  it.prop("writes every line once, in order, in fewer writes than lines", [
    fc.array(fc.stringMatching(/^[^\n]{0,40}$/), { maxLength: 3000 })
  ], ([lines]) => {
    const writes: Array<string> = []
    const output = makeBatchedOutput((text) => writes.push(text))
    for (const line of lines) output.write(line)
    output.flush()
    assert.strictEqual(writes.join(""), lines.map((line) => line + "\n").join(""))
    assert.isAtMost(writes.length, Math.ceil(lines.length / 1024) + 1)
  })

  it("writes nothing until the current I/O has been handled, then everything at once", async () => {
    const writes: Array<string> = []
    const output = makeBatchedOutput((text) => writes.push(text))
    output.write("a")
    output.write("b")
    assert.deepStrictEqual(writes, [])
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepStrictEqual(writes, ["a\nb\n"])
  })
})
