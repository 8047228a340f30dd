import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, FastCheck as fc } from "effect"
import { ServerConfig } from "../../src/Config.js"

const read = (env: Record<string, string>) =>
  Effect.runSync(
    Effect.either(
      ServerConfig.fromEnv.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
    )
  )

const ranges = {
  REBALANCE_INTERVAL_MS: [100, 600_000, "intervalMs"],
  REBALANCE_TOLERANCE_PERCENT: [1, 100, "tolerancePercent"],
  REBALANCE_MAX_PER_SECOND: [0, 100_000, "maxPerSecond"],
  REBALANCE_SETTLE_MS: [0, 2_147_483_647, "settleMs"]
} as const

const names = Object.keys(ranges) as Array<keyof typeof ranges>

describe("the rebalancing settings", () => {
  it("default to 2 s rounds, 10 %, 250 a second, 5 s to settle", () => {
    const config = read({})
    assert.isTrue(Either.isRight(config))
    if (Either.isRight(config)) {
      assert.deepStrictEqual(config.right.rebalance, {
        intervalMs: 2000,
        tolerancePercent: 10,
        maxPerSecond: 250,
        settleMs: 5000
      })
    }
  })

  it.prop("a whole number in range is taken as it is", [
    fc.constantFrom(...names),
    fc.double({ min: 0, max: 1, noNaN: true })
  ], ([name, u]) => {
    const [min, max, field] = ranges[name]
    const value = Math.floor(min + u * (max - min))
    const config = read({ [name]: ` ${value} ` })
    assert.isTrue(Either.isRight(config))
    if (Either.isRight(config)) assert.strictEqual(config.right.rebalance[field], value)
  })

  it.prop(
    "anything else stops the start, naming the variable",
    [fc.constantFrom(...names), fc.oneof(fc.constantFrom("", "1.5", "-1", "0x10", "10s", "1e3"), fc.integer())],
    ([name, bad]) => {
      const [min, max] = ranges[name]
      fc.pre(typeof bad === "string" || bad < min || bad > max)
      const config = read({ [name]: String(bad) })
      assert.isTrue(Either.isLeft(config))
      if (Either.isLeft(config)) assert.include(String(config.left), name)
    }
  )
})
