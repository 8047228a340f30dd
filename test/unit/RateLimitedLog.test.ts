import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { makeLogGate, rateLimitPeriodMs } from "../../src/ops/RateLimitedLog.js"

describe("RateLimitedLog", () => {
  it.prop(
    "each kind passes at most once a period, and each passing line counts exactly the lines held back before it",
    [fc.array(fc.tuple(fc.nat(3 * rateLimitPeriodMs), fc.constantFrom("a", "b")), { maxLength: 200 })],
    ([steps]) => {
      let now = 0
      const gate = makeLogGate(() => now)
      const passedAt = new Map<string, number>()
      const heldBack = new Map<string, number>()
      for (const [advance, kind] of steps) {
        now += advance
        const result = gate(kind)
        const previous = passedAt.get(kind)
        if (result === undefined) {
          assert.isTrue(previous !== undefined && now - previous < rateLimitPeriodMs)
          heldBack.set(kind, (heldBack.get(kind) ?? 0) + 1)
        } else {
          assert.isTrue(previous === undefined || now - previous >= rateLimitPeriodMs)
          assert.strictEqual(result, heldBack.get(kind) ?? 0)
          passedAt.set(kind, now)
          heldBack.set(kind, 0)
        }
      }
    }
  )
})
