import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, FastCheck as fc, Fiber, Layer, Queue, Scope, TestClock } from "effect"
import { ForgeConfig } from "../../src/Config.js"
import * as InProcessForge from "../../src/forge/InProcessForge.js"
import { IntegerForge } from "../../src/forge/IntegerForge.js"

const forgeLayer = (intervalMs: number, bufferCapacity = 1024) =>
  InProcessForge.layer.pipe(Layer.provide(ForgeConfig.layerTest(intervalMs, bufferCapacity)))

type Step =
  | { readonly _tag: "Join" }
  | { readonly _tag: "Leave"; readonly pick: number }
  | { readonly _tag: "Advance"; readonly ms: number }
  | { readonly _tag: "InterruptedJoin"; readonly yields: number }

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constant<Step>({ _tag: "Join" }),
  fc.nat(100).map((pick): Step => ({ _tag: "Leave", pick })),
  fc.integer({ min: 0, max: 2500 }).map((ms): Step => ({ _tag: "Advance", ms })),
  fc.nat(5).map((yields): Step => ({ _tag: "InterruptedJoin", yields }))
)

interface Subscriber {
  readonly scope: Scope.CloseableScope
  readonly queue: Queue.Dequeue<number>
  readonly received: Array<number>
  readonly expected: Array<number>
}

describe("IntegerForge", () => {
  it.effect.prop(
    "ticks iff subscribers exist; everyone present gets every integer, in order, from one sequence",
    { intervalMs: fc.integer({ min: 20, max: 1000 }), steps: fc.array(step, { maxLength: 40 }) },
    ({ intervalMs, steps }) =>
      Effect.gen(function*() {
        const forge = yield* IntegerForge
        // The model: the clock, the forge's next slot, and the last integer forged.
        let now = 0
        let due: number | undefined = undefined
        let last = 0
        const active: Array<Subscriber> = []

        const drain = Effect.forEach(active, (s) =>
          Queue.takeAll(s.queue).pipe(Effect.map((chunk) => {
            s.received.push(...chunk)
          })))

        for (const s of steps) {
          switch (s._tag) {
            case "Join": {
              const scope = yield* Scope.make()
              const queue = yield* Scope.extend(forge.subscribe, scope)
              if (active.length === 0) due = now + intervalMs
              active.push({ scope, queue, received: [], expected: [] })
              break
            }
            case "Leave": {
              if (active.length === 0) break
              const [gone] = active.splice(s.pick % active.length, 1)
              yield* Queue.takeAll(gone!.queue).pipe(Effect.map((chunk) => gone!.received.push(...chunk)))
              assert.deepStrictEqual(gone!.received, gone!.expected)
              yield* Scope.close(gone!.scope, Exit.void)
              if (active.length === 0) due = undefined
              break
            }
            case "Advance": {
              now += s.ms
              while (due !== undefined && due <= now) {
                last += 1
                for (const sub of active) sub.expected.push(last)
                due += intervalMs
              }
              yield* TestClock.adjust(s.ms)
              break
            }
            case "InterruptedJoin": {
              const fiber = yield* Effect.fork(Effect.scoped(Effect.zipRight(forge.subscribe, Effect.never)))
              for (let i = 0; i < s.yields; i++) yield* Effect.yieldNow()
              yield* Fiber.interrupt(fiber)
              break
            }
          }
          yield* drain
          const status = yield* forge.status
          assert.deepStrictEqual(forge.statusNow(), status)
          assert.strictEqual(status.subscribers, active.length)
          assert.strictEqual(status.running, active.length > 0)
          assert.strictEqual(status.last, last)
          for (const sub of active) assert.deepStrictEqual(sub.received, sub.expected)
        }
        for (const sub of active) yield* Scope.close(sub.scope, Exit.void)
        const end = yield* forge.status
        assert.deepStrictEqual(end, { running: false, last, subscribers: 0 })
      }).pipe(Effect.provide(forgeLayer(intervalMs))),
    { fastCheck: { numRuns: 60 } }
  )

  it.effect("continues from the last integer after an idle period, forging nothing while idle", () =>
    Effect.gen(function*() {
      const forge = yield* IntegerForge
      const first = yield* Scope.make()
      const q1 = yield* Scope.extend(forge.subscribe, first)
      yield* TestClock.adjust(3000)
      assert.deepStrictEqual(Array.from(yield* Queue.takeAll(q1)), [1, 2, 3])
      yield* Scope.close(first, Exit.void)
      yield* TestClock.adjust(60_000)
      assert.deepStrictEqual(yield* forge.status, { running: false, last: 3, subscribers: 0 })
      const q2 = yield* forge.subscribe
      yield* TestClock.adjust(2000)
      assert.deepStrictEqual(Array.from(yield* Queue.takeAll(q2)), [4, 5])
    }).pipe(Effect.scoped, Effect.provide(forgeLayer(1000))))

  it.effect("a subscriber that falls a whole buffer behind loses the oldest, and nobody waits for it", () =>
    Effect.gen(function*() {
      const forge = yield* IntegerForge
      const slow = yield* forge.subscribe
      const fast = yield* forge.subscribe
      const seen: Array<number> = []
      for (let i = 0; i < 10; i++) {
        yield* TestClock.adjust(100)
        seen.push(...(yield* Queue.takeAll(fast)))
      }
      assert.deepStrictEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
      assert.deepStrictEqual(Array.from(yield* Queue.takeAll(slow)), [7, 8, 9, 10])
      assert.strictEqual((yield* forge.status).last, 10)
    }).pipe(Effect.scoped, Effect.provide(forgeLayer(100, 4))))

  it.effect.prop(
    "racing joins and leaves never leave the forge running without subscribers, nor stopped with one",
    { delays: fc.array(fc.tuple(fc.nat(4), fc.nat(4)), { minLength: 1, maxLength: 30 }) },
    ({ delays }) =>
      Effect.gen(function*() {
        const forge = yield* IntegerForge
        const churn = (before: number, held: number) =>
          Effect.gen(function*() {
            for (let i = 0; i < before; i++) yield* Effect.yieldNow()
            yield* forge.subscribe
            for (let i = 0; i < held; i++) yield* Effect.yieldNow()
          }).pipe(Effect.scoped)
        yield* Effect.forEach(delays, ([before, held]) => churn(before, held), { concurrency: "unbounded" })
        assert.deepStrictEqual(yield* forge.status, { running: false, last: 0, subscribers: 0 })
        const q = yield* forge.subscribe
        assert.isTrue((yield* forge.status).running)
        yield* TestClock.adjust(10)
        assert.deepStrictEqual(Array.from(yield* Queue.takeAll(q)), [1])
      }).pipe(Effect.scoped, Effect.provide(forgeLayer(10))),
    { fastCheck: { numRuns: 50 } }
  )
})
