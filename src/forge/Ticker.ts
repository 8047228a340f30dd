/**
 * Runs an effect once per interval, forever, on the drift-free slots of `ForgeSchedule`: the
 * in-process forge forges with it; the shared one takes part in Redis, leading or following.
 */
import { Clock, Duration, Effect } from "effect"
import { followerTryAt, nextTick } from "./ForgeSchedule.js"

// A late tick is caught up at once, but not before the I/O that is already waiting: on a starved
// CPU, back-to-back catch-up ticks would otherwise keep handshakes from ever being answered
// (measured: a fifth of 1000 handshakes got no answer within 10 s).
const afterPendingIo = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

/** Waits for the slot `due`, or past it for pending I/O only; the slot it filled. */
const slot = (due: number, intervalMs: number) =>
  Effect.gen(function*() {
    const step = nextTick({ due, now: yield* Clock.currentTimeMillis, intervalMs })
    if (step.waitMs > 0) yield* Effect.sleep(Duration.millis(step.waitMs))
    else yield* afterPendingIo
    return step.due
  })

export const everyInterval = <E, R>(intervalMs: number, step: Effect.Effect<void, E, R>): Effect.Effect<never, E, R> =>
  Effect.gen(function*() {
    let due = (yield* Clock.currentTimeMillis) + intervalMs
    while (true) {
      due = (yield* slot(due, intervalMs)) + intervalMs
      yield* step
    }
  })

/**
 * The shared forge's attempts: while `leading`, on its own slots as `everyInterval`; otherwise at
 * `followerTryAt`, from when it last heard a new integer (`heardAt`), so that an instance that
 * does not lead stays quiet while integers come, and steps in just after one is overdue.
 */
export const leadOrFollow = <E, R>(
  intervalMs: number,
  step: Effect.Effect<void, E, R>,
  view: { readonly leading: () => boolean; readonly heardAt: () => number }
): Effect.Effect<never, E, R> =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    let due = start + intervalMs
    let triedAt = start
    while (true) {
      if (view.leading()) {
        due = (yield* slot(due, intervalMs)) + intervalMs
        triedAt = yield* Clock.currentTimeMillis
        yield* step
        continue
      }
      const now = yield* Clock.currentTimeMillis
      const tryAt = followerTryAt({ heardAt: Math.max(view.heardAt(), start), triedAt, intervalMs })
      // Woken at least once an interval, to look again at what was heard meanwhile.
      if (tryAt > now) yield* Effect.sleep(Duration.millis(Math.min(tryAt - now, intervalMs)))
      else {
        triedAt = now
        // Should this attempt take the lease, its slots start from it.
        due = now + intervalMs
        yield* step
      }
    }
  })
