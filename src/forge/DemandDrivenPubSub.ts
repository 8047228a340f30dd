/**
 * What both forges share: a PubSub of integers whose subscriptions keep a worker running. The
 * first subscription starts the worker (in an `RcRef`), the last one to leave interrupts it.
 *
 * A subscription joins the PubSub before it can start the worker, so the first subscriber cannot
 * miss the worker's first integer; on release the order reverses and the worker stops first.
 * The PubSub slides: publishing never waits, and a subscriber that falls a whole buffer behind
 * loses its oldest integers (it sees a gap) instead of stalling everyone else.
 */
import { Effect, PubSub, type Queue, RcRef, type Scope } from "effect"

export interface DemandDrivenPubSub {
  readonly pubsub: PubSub.PubSub<number>
  /** A subscription for the life of the caller's scope; the worker runs while any exists. */
  readonly subscribe: Effect.Effect<Queue.Dequeue<number>, never, Scope.Scope>
  readonly running: () => boolean
  readonly subscribers: () => number
}

export const makeDemandDrivenPubSub = (options: {
  readonly capacity: number
  /** Started by the first subscription, in a scope closed when the last one leaves. */
  readonly worker: (pubsub: PubSub.PubSub<number>) => Effect.Effect<void, never, Scope.Scope>
}): Effect.Effect<DemandDrivenPubSub, never, Scope.Scope> =>
  Effect.gen(function*() {
    const pubsub = yield* Effect.acquireRelease(PubSub.sliding<number>(options.capacity), PubSub.shutdown)
    let running = false
    let subscribers = 0
    const worker = yield* RcRef.make({
      acquire: Effect.acquireRelease(Effect.sync(() => (running = true)), () => Effect.sync(() => (running = false)))
        .pipe(Effect.zipRight(Effect.suspend(() => options.worker(pubsub))))
    })
    const subscribe = Effect.gen(function*() {
      const dequeue = yield* PubSub.subscribe(pubsub)
      yield* Effect.acquireRelease(Effect.sync(() => subscribers++), () => Effect.sync(() => subscribers--))
      yield* RcRef.get(worker)
      return dequeue
    })
    return { pubsub, subscribe, running: () => running, subscribers: () => subscribers }
  })
