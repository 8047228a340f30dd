/**
 * The integer forge: one process-wide source of 1, 2, 3, … that ticks only while someone listens.
 *
 * The forge is a sliding PubSub of integers plus one ticking fiber held in an `RcRef`: the first
 * subscriber starts the fiber, the last one to leave interrupts it, and the counter lives outside
 * the fiber so the sequence carries on across idle periods.
 */
import { Context, Effect, Layer, PubSub, type Queue, Ref, type Scope } from "effect"
import { ForgeConfig } from "../Config.js"
import { makeDemandDrivenPubSub } from "./DemandDrivenPubSub.js"
import { everyInterval } from "./Ticker.js"

/** What an operator or a test can see of the forge at any moment. */
export interface ForgeStatus {
  /** Whether the ticking fiber is alive. */
  readonly running: boolean
  /** The last integer forged (0 before the first). */
  readonly last: number
  /** How many subscriptions are open. */
  readonly subscribers: number
  /**
   * With a shared forge (Redis): whether this instance holds the lease and forges, and whether
   * Redis answers. Absent for the in-process forge.
   */
  readonly shared?: { readonly leader: boolean; readonly redisReachable: boolean }
}

export class IntegerForge extends Context.Tag("IntegerForge/IntegerForge")<IntegerForge, {
  /**
   * A subscription to the integers forged from now on, open for the life of the caller's scope.
   * The first integer it receives is the next one forged. The scope's closing releases it,
   * whatever the reason (completion, failure, interruption, even halfway through subscribing).
   */
  readonly subscribe: Effect.Effect<Queue.Dequeue<number>, never, Scope.Scope>
  readonly status: Effect.Effect<ForgeStatus>
}>() {
  static readonly layerWithoutConfig = Layer.scoped(
    IntegerForge,
    Effect.gen(function*() {
      const { bufferCapacity, intervalMs } = yield* ForgeConfig
      const last = yield* Ref.make(0)

      // Counting and publishing are one uninterruptible step, so stopping the forge can never
      // use up an integer that nobody received.
      const forgeOne = (pubsub: PubSub.PubSub<number>) =>
        Ref.updateAndGet(last, (n) => n + 1).pipe(
          Effect.flatMap((n) => PubSub.publish(pubsub, n)),
          Effect.uninterruptible
        )

      const { running, subscribe, subscribers } = yield* makeDemandDrivenPubSub({
        capacity: bufferCapacity,
        worker: (pubsub) => Effect.asVoid(Effect.forkScoped(everyInterval(intervalMs, forgeOne(pubsub))))
      })

      const status = Effect.all({ running, last: Ref.get(last), subscribers })

      return { subscribe, status }
    })
  )

  static readonly layer = IntegerForge.layerWithoutConfig.pipe(Layer.provide(ForgeConfig.layer))
}
