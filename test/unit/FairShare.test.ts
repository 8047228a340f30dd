import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { balanced, excessOf, roundSize } from "../../src/connection/FairShare.js"

const sum = (loads: ReadonlyArray<number>) => loads.reduce((a, b) => a + b, 0)
const loadsArb = fc.array(fc.nat(20_000), { minLength: 2, maxLength: 8 })
const toleranceArb = fc.integer({ min: 1, max: 50 }).map((percent) => percent / 100)

/**
 * One round as a round-robin proxy sees it: every instance hands over what `excessOf` says (up to
 * `budget`), and the proxy deals the moved clients out one by one, starting where it left off.
 */
const round = (loads: ReadonlyArray<number>, tolerance: number, budget: number, next: number) => {
  const moving = loads.map((own) => roundSize(excessOf(own, loads, tolerance), budget))
  const after = loads.map((own, i) => own - moving[i]!)
  let at = next
  for (let k = 0; k < sum(moving); k++) after[at++ % loads.length]!++
  return { loads: after, next: at % loads.length }
}

describe("the fair share of instances sharing a forge", () => {
  it.prop("balanced loads hand nothing over, and the total is kept", [loadsArb, toleranceArb], ([loads, tolerance]) => {
    const excesses = loads.map((own) => excessOf(own, loads, tolerance))
    if (balanced(loads, tolerance)) assert.deepStrictEqual(excesses, loads.map(() => 0))
    else assert.isAbove(sum(excesses), 0, "someone above its share hands over")
    const share = sum(loads) / loads.length
    excesses.forEach((excess, i) => {
      assert.isAtLeast(excess, 0)
      assert.isAtMost(loads[i]! - excess, Math.max(loads[i]!, Math.ceil(share)), "no one hands over below its share")
      if (excess > 0) assert.isAtLeast(loads[i]! - excess, Math.floor(share))
    })
  })

  it.prop("a round never hands over more than the budget", [fc.nat(100_000), fc.nat(5000)], ([excess, budget]) => {
    assert.strictEqual(roundSize(excess, budget), Math.min(excess, budget))
  })

  it.prop(
    "behind a round-robin proxy, rounds reach the tolerance from any spread, and the spread never widens",
    [loadsArb, toleranceArb, fc.integer({ min: 1, max: 2000 }), fc.nat(7)],
    ([start, tolerance, budget, next]) => {
      let state = { loads: start as ReadonlyArray<number>, next: next % start.length }
      const spread = (loads: ReadonlyArray<number>) => Math.max(...loads) - Math.min(...loads)
      // Each round removes a third of the gap at least (an even deal), or `budget` of it.
      const rounds = 60 + Math.ceil(sum(start) / budget)
      for (let r = 0; r < rounds && !balanced(state.loads, tolerance); r++) {
        const after = round(state.loads, tolerance, budget, state.next)
        assert.strictEqual(sum(after.loads), sum(state.loads), "no client lost or made up")
        const share = sum(state.loads) / state.loads.length
        state.loads.forEach((load, i) => {
          if (load > share) assert.isAtLeast(after.loads[i]!, Math.floor(share), "no one above its share ends below it")
        })
        assert.isAtMost(
          spread(after.loads),
          Math.max(spread(state.loads), state.loads.length),
          "the spread never widens"
        )
        state = after
      }
      assert.isTrue(balanced(state.loads, tolerance), `${start.join(",")} ended at ${state.loads.join(",")}`)
    }
  )
})
