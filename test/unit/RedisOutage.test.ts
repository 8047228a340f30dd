import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { afterAttempt, type AttemptOutcome, type BeliefLine, initialBelief } from "../../src/forge/RedisOutage.js"

const outcome: fc.Arbitrary<AttemptOutcome> = fc.oneof(
  fc.constant({ _tag: "Failed" } as const),
  fc.boolean().map((leader) => ({ _tag: "Answered", leader }) as const)
)

const run = (outcomes: ReadonlyArray<AttemptOutcome>) => {
  let belief = initialBelief
  const lines: Array<BeliefLine> = []
  for (const o of outcomes) {
    const next = afterAttempt(belief, o)
    belief = next.belief
    lines.push(...next.lines)
  }
  return { belief, lines }
}

describe("RedisOutage", () => {
  it.prop("an outage is two lines, unreachable then answers again, never one per attempt", [fc.array(outcome)], ([
    outcomes
  ]) => {
    const { lines } = run(outcomes)
    const outageLines = lines.filter((l) => l.startsWith("Redis"))
    outageLines.forEach((line, i) => assert.strictEqual(line.includes("unreachable"), i % 2 === 0, line))
    const outages = outcomes.filter((o, i) => o._tag === "Failed" && (i === 0 || outcomes[i - 1]!._tag !== "Failed"))
    assert.strictEqual(outageLines.filter((l) => l.includes("unreachable")).length, outages.length)
  })

  it.prop("lease lines alternate, taken first, and the belief follows the last answer", [fc.array(outcome)], ([
    outcomes
  ]) => {
    const { belief, lines } = run(outcomes)
    const leaseLines = lines.filter((l) => l.startsWith("forge lease"))
    leaseLines.forEach((line, i) => assert.strictEqual(line, i % 2 === 0 ? "forge lease taken" : "forge lease lost"))
    const lastOutcome = outcomes.at(-1)
    assert.strictEqual(belief.leader, lastOutcome?._tag === "Answered" && lastOutcome.leader)
    assert.strictEqual(belief.reachable, lastOutcome === undefined || lastOutcome._tag === "Answered")
    assert.strictEqual(leaseLines.at(-1) === "forge lease taken", belief.leader)
  })

  it("a leader that stops hearing from Redis says it lost the lease, not only that Redis is away", () => {
    const { lines } = run([{ _tag: "Answered", leader: true }, { _tag: "Failed" }, { _tag: "Failed" }])
    assert.deepStrictEqual(lines, [
      "forge lease taken",
      "Redis unreachable: integers paused until it answers",
      "forge lease lost"
    ])
  })
})
