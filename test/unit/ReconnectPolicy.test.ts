import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import {
  attemptAfter,
  backoffCeiling,
  backoffDelay,
  defaultPolicy,
  type ReconnectPolicy,
  verdictForClose,
  verdictForStatus
} from "../../src/client/ReconnectPolicy.js"

const policy: fc.Arbitrary<ReconnectPolicy> = fc.record({
  baseMs: fc.integer({ min: 1, max: 5000 }),
  capMs: fc.integer({ min: 1, max: 600_000 })
})
const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })

describe("ReconnectPolicy", () => {
  it.prop("every delay lies in [0, min(cap, base·2^n))", [policy, fc.nat(200), unit], ([p, attempt, random]) => {
    const delay = backoffDelay(attempt, random, p)
    assert.isAtLeast(delay, 0)
    assert.isAtMost(delay, Math.min(p.capMs, p.baseMs * 2 ** attempt))
    if (backoffCeiling(attempt, p) >= 1) assert.isBelow(delay, backoffCeiling(attempt, p))
  })

  it.prop("the ceiling doubles until the cap and never passes it", [policy, fc.nat(200)], ([p, attempt]) => {
    const now = backoffCeiling(attempt, p)
    const next = backoffCeiling(attempt + 1, p)
    assert.isAtMost(now, p.capMs)
    assert.isTrue(next === Math.min(p.capMs, now * 2), `${now} → ${next}`)
  })

  it.prop(
    "full jitter: the delay spans the whole range as the random number does",
    [policy, fc.nat(30)],
    ([p, attempt]) => {
      assert.strictEqual(backoffDelay(attempt, 0, p), 0)
      const ceiling = backoffCeiling(attempt, p)
      assert.strictEqual(backoffDelay(attempt, 0.999999999, p), Math.max(0, Math.ceil(ceiling) - 1))
    }
  )

  it.prop("the count starts over once a connection delivered an integer, or after 1012/1001; else it stays", [
    fc.nat(100),
    fc.boolean(),
    fc.integer({ min: 1000, max: 4999 })
  ], ([attempt, delivered, code]) => {
    const next = attemptAfter(attempt, delivered, code)
    if (delivered || code === 1012 || code === 1001) assert.strictEqual(next, 0)
    else assert.strictEqual(next, attempt)
  })

  it.prop("with the defaults, a deploy's first retry comes within 250 ms and none waits 5 s or more", [
    fc.nat(200),
    unit
  ], ([attempt, random]) => {
    assert.isBelow(backoffDelay(attemptAfter(attempt, false, 1012), random), 250)
    assert.isBelow(backoffDelay(attempt, random), 5000)
  })

  it.prop("close codes: restart and going-away retry at once, policy and 4xxx stop, the rest back off", [
    fc.integer({ min: 1000, max: 4999 })
  ], ([code]) => {
    const verdict = verdictForClose(code)
    if (code === 1012 || code === 1001) assert.strictEqual(verdict, "retry-now")
    else if (code === 1008 || code >= 4000) assert.strictEqual(verdict, "stop")
    else assert.strictEqual(verdict, "backoff")
  })

  it("refusals: 4xx stop (except 408 and 429), the rest back off", () => {
    for (const status of [400, 401, 403, 404]) assert.strictEqual(verdictForStatus(status), "stop")
    for (const status of [408, 429, 500, 502, 503]) assert.strictEqual(verdictForStatus(status), "backoff")
    assert.deepStrictEqual(defaultPolicy, { baseMs: 250, capMs: 5000 })
  })
})
