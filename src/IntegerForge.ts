/**
 * The integer forge: one process-wide source of 1, 2, 3, … that ticks only while someone listens.
 *
 * The forge is a sliding PubSub of integers plus one ticking fiber held in an `RcRef`: the first
 * subscriber starts the fiber, the last one to leave interrupts it, and the counter lives outside
 * the fiber so the sequence carries on across idle periods.
 */
import { Context, Effect, Layer, PubSub, type Queue, RcRef, Ref, type Scope } from "effect"
import { ForgeConfig } from "./Config.js"
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
      // Sliding, so that publishing never waits: a subscriber that falls a whole buffer behind
      // loses its oldest integers (it sees a gap) instead of stalling the forge and everyone else.
      const pubsub = yield* Effect.acquireRelease(PubSub.sliding<number>(bufferCapacity), PubSub.shutdown)
      const last = yield* Ref.make(0)
      const running = yield* Ref.make(false)
      const subscribers = yield* Ref.make(0)

      // Counting and publishing are one uninterruptible step, so stopping the forge can never
      // use up an integer that nobody received.
      const forgeOne = Ref.updateAndGet(last, (n) => n + 1).pipe(
        Effect.flatMap((n) => PubSub.publish(pubsub, n)),
        Effect.uninterruptible
      )

      const ticker = yield* RcRef.make({
        acquire: Effect.acquireRelease(Ref.set(running, true), () => Ref.set(running, false)).pipe(
          Effect.zipRight(Effect.forkScoped(everyInterval(intervalMs, forgeOne))),
          Effect.asVoid
        )
      })

      // Join the PubSub before the ticker can start, so the first subscriber cannot miss the
      // first integer; on release the order reverses and the ticker stops before we leave.
      const subscribe = Effect.gen(function*() {
        const dequeue = yield* PubSub.subscribe(pubsub)
        yield* Effect.acquireRelease(Ref.update(subscribers, (n) => n + 1), () => Ref.update(subscribers, (n) => n - 1))
        yield* RcRef.get(ticker)
        return dequeue
      })

      const status = Effect.all({ running: Ref.get(running), last: Ref.get(last), subscribers: Ref.get(subscribers) })

      return { subscribe, status }
    })
  )

  static readonly layer = IntegerForge.layerWithoutConfig.pipe(Layer.provide(ForgeConfig.layer))
}
