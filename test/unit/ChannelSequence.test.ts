import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { receive } from "../../src/forge/ChannelSequence.js"
import { consecutive } from "../support/Sequences.js"

describe("integers received on the Redis channel", () => {
  it.prop(
    "what is delivered is consecutive across any loss on the channel that stays within the capacity",
    [fc.integer({ min: 2, max: 1000 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 300 }), fc.nat(50)],
    ([start, kept, capacity]) => {
      // The forge publishes start, start + 1, …; the channel drops those not `kept`, but never
      // more than `capacity` in a row.
      let last = start - 1
      let dropped = 0
      const delivered: Array<number> = []
      kept.forEach((keep, i) => {
        const n = start + i
        if (!keep && dropped < capacity) return void dropped++
        dropped = 0
        const heard = receive(last, n, capacity)
        last = heard.last
        assert.strictEqual(heard.skipped, 0)
        delivered.push(...heard.deliver)
      })
      assert.isTrue(consecutive(delivered), delivered.join(","))
      if (delivered.length > 0) assert.strictEqual(delivered[0], start, "nothing before the first one heard is lost")
      assert.strictEqual(delivered.at(-1) ?? start - 1, last)
    }
  )

  it.prop("an integer already heard, or older, delivers nothing", [fc.nat(1000), fc.nat(1000)], ([last, back]) => {
    assert.deepStrictEqual(receive(last, last - back, 10).deliver, [])
  })

  it.prop("a jump larger than the capacity is delivered as a jump, and counted", [
    fc.integer({
      min: 1,
      max: 1000
    }),
    fc.nat(100),
    fc.integer({ min: 1, max: 100 })
  ], ([last, capacity, over]) => {
    const n = last + capacity + over + 1
    assert.deepStrictEqual(receive(last, n, capacity), { last: n, deliver: [n], skipped: capacity + over })
  })

  it("knows no gap before the first integer (nothing was heard or read)", () => {
    assert.deepStrictEqual(receive(0, 500, 10), { last: 500, deliver: [500], skipped: 0 })
  })
})
