import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import {
  attemptAfter,
  backoffCeiling,
  backoffDelay,
  decide,
  defaultPolicy,
  type Ending,
  initialRetryState,
  type ReconnectPolicy,
  type RetryState,
  verdictForClose,
  verdictForStatus
} from "../../src/client/ReconnectPolicy.js"

const policy: fc.Arbitrary<ReconnectPolicy> = fc.record({
  baseMs: fc.integer({ min: 1, max: 5000 }),
  capMs: fc.integer({ min: 1, max: 600_000 })
})
const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })

// What can happen to an attempt: closes with any code, refusals that drain or not, failures.
const ending: fc.Arbitrary<Ending> = fc.oneof(
  fc.record({
    _tag: fc.constant("Closed" as const),
    code: fc.integer({ min: 1000, max: 4999 }),
    delivered: fc.boolean()
  }),
  fc.record({
    _tag: fc.constant("Refused" as const),
    status: fc.constantFrom(400, 403, 404, 408, 429, 500, 502, 503),
    draining: fc.boolean()
  }),
  fc.constant({ _tag: "Failed" as const })
)

/** Runs the policy over a series of endings, with their random numbers; stops at a Stop. */
const replay = (steps: ReadonlyArray<readonly [Ending, number]>, p: ReconnectPolicy = defaultPolicy) => {
  let state: RetryState = initialRetryState
  const delays: Array<{ readonly ending: Ending; readonly delayMs: number; readonly before: RetryState }> = []
  for (const [e, random] of steps) {
    const decision = decide(state, e, random, p)
    if (decision._tag === "Stop") break
    delays.push({ ending: e, delayMs: decision.delayMs, before: state })
    state = decision.state
  }
  return delays
}

const restart: Ending = { _tag: "Closed", code: 1012, delivered: true }
const drainingRefusal: Ending = { _tag: "Refused", status: 503, draining: true }

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
    assert.deepStrictEqual(defaultPolicy, { baseMs: 250, capMs: 5000, quickRetries: 5 })
  })

  it.prop(
    "after a 1012, up to quickRetries draining refusals or failures retry under baseMs / 2, then the backoff grows",
    [
      fc.nat(8),
      fc.array(fc.constantFrom(drainingRefusal, { _tag: "Failed" as const }), { minLength: 1, maxLength: 12 }),
      unit
    ],
    ([quickRetries, failures, random]) => {
      const p = { ...defaultPolicy, quickRetries }
      const delays = replay([[restart, random], ...failures.map((f) => [f, random] as const)], p)
      assert.lengthOf(delays, failures.length + 1)
      // The retry after the close itself, then one per failure: the first quickRetries are quick.
      assert.isBelow(delays[0]!.delayMs, p.baseMs, "the retry after the close")
      for (const { delayMs } of delays.slice(1, quickRetries + 1)) assert.isBelow(delayMs, p.baseMs / 2, "a quick one")
      delays.slice(quickRetries + 1).forEach(({ before, delayMs }, k) => {
        assert.strictEqual(before.quickLeft, 0, "the budget is spent")
        assert.strictEqual(before.attempt, k + 1, "and the backoff counts again")
        assert.isBelow(delayMs, backoffCeiling(k + 1, p))
      })
    }
  )

  it.prop(
    "a refusal that does not say it drains (at capacity, a proxy's 502) ends the quick retries at once",
    [fc.constantFrom(429, 500, 502, 503), unit],
    ([status, random]) => {
      const [, refusal, next] = replay([
        [restart, random],
        [{ _tag: "Refused", status, draining: false }, random],
        [drainingRefusal, 0.999]
      ])
      assert.strictEqual(refusal!.before.quickLeft, defaultPolicy.quickRetries)
      assert.strictEqual(next!.before.quickLeft, 0)
      assert.isAtLeast(backoffCeiling(next!.before.attempt), 2 * defaultPolicy.baseMs, "the backoff grows")
    }
  )

  it.prop(
    "whatever happens, no delay reaches the cap, and a service that only fails gets ever longer ceilings",
    [policy, fc.array(fc.tuple(ending, unit), { maxLength: 60 }), fc.nat(10)],
    ([p, steps, failures]) => {
      for (const { delayMs } of replay(steps, p)) assert.isBelow(delayMs, Math.max(1, p.capMs))
      // A dying service: every attempt fails, whatever came before (short of a stop).
      const going = steps.filter(([e]) => decide(initialRetryState, e, 0, p)._tag !== "Stop")
      const quick = p.quickRetries ?? 5
      const dying = replay([...going, ...Array(quick + failures + 2).fill([{ _tag: "Failed" }, 0.999])], p)
      assert.lengthOf(dying, going.length + quick + failures + 2)
      const tail = dying.slice(-(failures + 1))
      tail.forEach(({ before }, k) => {
        assert.strictEqual(before.quickLeft, 0)
        assert.strictEqual(before.attempt, tail[0]!.before.attempt + k, "the count grows with each failure")
      })
    }
  )

  it.prop("stops exactly where the close code or the status says so", [ending, unit], ([e, random]) => {
    const decision = decide(initialRetryState, e, random)
    const stops = e._tag === "Closed"
      ? verdictForClose(e.code) === "stop"
      : e._tag === "Refused" && verdictForStatus(e.status) === "stop"
    assert.strictEqual(decision._tag === "Stop", stops)
  })
})
