/**
 * Waiting for a condition in tests that run real sockets and timers: the condition is polled,
 * because nothing in the service announces the moment it starts to hold.
 */
import { Duration, Effect, Schedule } from "effect"

/** Polls a condition until it holds, failing after a generous bound (these are end-to-end tests). */
export const eventually = <A>(check: Effect.Effect<A, Error>, within = Duration.seconds(5)) =>
  Effect.suspend(() => {
    // The last failure says which condition, and how far from it.
    let last = ""
    return check.pipe(
      Effect.tapError((error) => Effect.sync(() => (last = `: ${error.message}`))),
      Effect.retry(Schedule.spaced(Duration.millis(10))),
      Effect.timeoutFail({ duration: within, onTimeout: () => new Error(`condition did not hold in time${last}`) })
    )
  })

/** Fails (for `eventually`) unless the predicate holds when the effect runs. */
export const ensure = (ok: () => boolean, what: string): Effect.Effect<void, Error> =>
  Effect.suspend(() => ok() ? Effect.void : Effect.fail(new Error(what)))
