import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { connectionCeiling, descriptorMargin, parseOpenFilesLimit } from "../../src/connection/ConnectionLimit.js"

describe("connection limits", () => {
  it.prop(
    "the ceiling never exceeds the configured maximum nor the descriptor limit minus the margin",
    [fc.integer({ min: 1, max: 1e7 }), fc.option(fc.integer({ min: 1, max: 1e7 }), { nil: undefined })],
    ([configured, fdLimit]) => {
      const ceiling = connectionCeiling(configured, fdLimit)
      assert.isAtLeast(ceiling, 1)
      assert.isAtMost(ceiling, configured)
      if (fdLimit === undefined) assert.strictEqual(ceiling, configured)
      else if (fdLimit - descriptorMargin(fdLimit) >= 1) assert.isAtMost(ceiling, fdLimit - descriptorMargin(fdLimit))
    }
  )

  it("leaves 500 descriptors of this machine's 20,000 free, so 19,500 sockets fit", () => {
    assert.strictEqual(connectionCeiling(100_000, 20_000), 19_500)
    assert.strictEqual(connectionCeiling(10_000, 20_000), 10_000)
  })

  it("reads the soft open-files limit from /proc/self/limits", () => {
    const limits = [
      "Limit                     Soft Limit           Hard Limit           Units     ",
      "Max open files            20000                20000                files     ",
      ""
    ].join("\n")
    assert.strictEqual(parseOpenFilesLimit(limits), 20000)
    assert.strictEqual(parseOpenFilesLimit(limits.replace("20000  ", "unlimited")), undefined)
    assert.strictEqual(parseOpenFilesLimit("garbage"), undefined)
  })
})
