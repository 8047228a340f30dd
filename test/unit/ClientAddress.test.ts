import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { clientAddress } from "../../src/edge/ClientAddress.js"

describe("operability", () => {
  it.prop("the client address is the entry the last trusted proxy appended after, never a forged one", [
    fc.array(fc.ipV4(), { maxLength: 5 }),
    fc.integer({ min: 0, max: 6 }),
    fc.ipV4()
  ], ([chain, hops, peer]) => {
    const result = clientAddress(peer, chain.length === 0 ? undefined : chain.join(", "), hops)
    if (hops === 0 || chain.length === 0) assert.strictEqual(result, peer)
    else if (chain.length >= hops) assert.strictEqual(result, chain[chain.length - hops])
    else assert.strictEqual(result, chain[0])
  })
})
