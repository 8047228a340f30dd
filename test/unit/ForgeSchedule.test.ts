import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { followerTryAt, followMarginMs, maxCatchUpMs, nextTick } from "../../src/forge/ForgeSchedule.js"

describe("ForgeSchedule", () => {
  it.prop(
    "on time or early, the tick waits for its slot",
    [fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 10_000 })],
    ([intervalMs, now, ahead]) => {
      const step = nextTick({ due: now + ahead, now, intervalMs })
      assert.deepStrictEqual(step, { due: now + ahead, waitMs: ahead })
    }
  )

  it.prop(
    "late within the catch-up window, the tick keeps its slot and fires at once",
    [fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 1, max: 10_000 })],
    ([intervalMs, due, late]) => {
      fc.pre(late <= Math.max(maxCatchUpMs, intervalMs))
      assert.deepStrictEqual(nextTick({ due, now: due + late, intervalMs }), { due, waitMs: 0 })
    }
  )

  it.prop(
    "later than the catch-up window, the schedule re-anchors on now",
    [fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 1, max: 1e6 })],
    ([intervalMs, due, extra]) => {
      const now = due + Math.max(maxCatchUpMs, intervalMs) + extra
      assert.deepStrictEqual(nextTick({ due, now, intervalMs }), { due: now, waitMs: 0 })
    }
  )

  it.prop(
    "run over a timeline with stalls, slots never drift and never come closer than the interval",
    [fc.integer({ min: 1, max: 500 }), fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 50 })],
    ([intervalMs, stalls]) => {
      // Simulate the forge's loop: each tick may be delayed by a stall before it runs.
      let now = 0
      let due = intervalMs
      const fired: Array<number> = []
      for (const stall of stalls) {
        now += stall
        const step = nextTick({ due, now, intervalMs })
        now += step.waitMs
        fired.push(step.due)
        assert.isAtLeast(now, step.due)
        due = step.due + intervalMs
      }
      for (let i = 1; i < fired.length; i++) {
        const gap = fired[i]! - fired[i - 1]!
        // Either the next slot (no drift), or a re-anchor after a long stall.
        assert.isTrue(gap === intervalMs || gap > Math.max(maxCatchUpMs, intervalMs), `gap ${gap}`)
      }
    }
  )

  it.prop(
    "an instance that does not lead tries once the next integer is overdue, never twice an interval",
    [fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: -20_000, max: 20_000 })],
    ([intervalMs, heardAt, triedOffset]) => {
      const triedAt = heardAt + triedOffset
      const at = followerTryAt({ heardAt, triedAt, intervalMs })
      const margin = followMarginMs(intervalMs)
      assert.isAtLeast(at, heardAt + intervalMs + margin, "not while the leader is on time")
      assert.isAtLeast(at, triedAt + intervalMs, "at most once an interval")
      assert.isAtMost(at, Math.max(heardAt, triedAt) + intervalMs + margin, "no later than a margin past due")
      assert.isAtMost(margin, Math.min(200, intervalMs / 5))
    }
  )
})
