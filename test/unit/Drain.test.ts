import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { closedAfter } from "../../src/http/Shutdown.js"

describe("the drain's spread", () => {
  it.prop(
    "closes never go back, never pass the total, and are all out by the end of the spread",
    [fc.nat(20_000), fc.nat(10_000)],
    ([total, spreadMs]) => {
      let before = 0
      const lastStep = Math.max(1, Math.floor(spreadMs / 20)) - 1
      for (let step = 0; step <= lastStep; step++) {
        const now = closedAfter(step, total, spreadMs)
        assert.isAtLeast(now, before)
        assert.isAtMost(now, total)
        if (total > 0) assert.isAbove(now, 0, "the first batch closes some")
        before = now
      }
      assert.strictEqual(before, total)
    }
  )

  it.prop("each batch closes about the same share", [
    fc.integer({ min: 1, max: 20_000 }),
    fc.integer({
      min: 40,
      max: 10_000
    })
  ], ([total, spreadMs]) => {
    const batches = Math.floor(spreadMs / 20)
    for (let step = 1; step < batches; step++) {
      const batch = closedAfter(step, total, spreadMs) - closedAfter(step - 1, total, spreadMs)
      assert.isAtMost(batch, Math.ceil(total / batches) + 1)
    }
  })
})
