/**
 * What both forges share: a PubSub of integers whose subscriptions keep a worker running. The
 * first subscription starts the worker (in an `RcRef`), the last one to leave interrupts it.
 *
 * A subscription joins the PubSub before it can start the worker, so the first subscriber cannot
 * miss the worker's first integer; on release the order reverses and the worker stops first.
 * The PubSub slides: publishing never waits, and a subscriber that falls a whole buffer behind
 * loses its oldest integers (it sees a gap) instead of stalling everyone else.
 */
import { Effect, PubSub, type Queue, RcRef, Ref, type Scope } from "effect"

export interface DemandDrivenPubSub {
  readonly pubsub: PubSub.PubSub<number>
  /** A subscription for the life of the caller's scope; the worker runs while any exists. */
  readonly subscribe: Effect.Effect<Queue.Dequeue<number>, never, Scope.Scope>
  readonly running: Effect.Effect<boolean>
  readonly subscribers: Effect.Effect<number>
}

export const makeDemandDrivenPubSub = (options: {
  readonly capacity: number
  /** Started by the first subscription, in a scope closed when the last one leaves. */
  readonly worker: (pubsub: PubSub.PubSub<number>) => Effect.Effect<void, never, Scope.Scope>
}): Effect.Effect<DemandDrivenPubSub, never, Scope.Scope> =>
  Effect.gen(function*() {
    const pubsub = yield* Effect.acquireRelease(PubSub.sliding<number>(options.capacity), PubSub.shutdown)
    const running = yield* Ref.make(false)
    const subscribers = yield* Ref.make(0)
    const worker = yield* RcRef.make({
      acquire: Effect.acquireRelease(Ref.set(running, true), () => Ref.set(running, false)).pipe(
        Effect.zipRight(Effect.suspend(() => options.worker(pubsub)))
      )
    })
    const subscribe = Effect.gen(function*() {
      const dequeue = yield* PubSub.subscribe(pubsub)
      yield* Effect.acquireRelease(Ref.update(subscribers, (n) => n + 1), () => Ref.update(subscribers, (n) => n - 1))
      yield* RcRef.get(worker)
      return dequeue
    })
    return { pubsub, subscribe, running: Ref.get(running), subscribers: Ref.get(subscribers) }
  })
