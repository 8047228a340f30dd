/**
 * Runs an effect once per interval, forever, on the drift-free slots of `ForgeSchedule`. Both
 * forges tick with it: the in-process one forges, the shared one takes part in Redis.
 */
import { Clock, Duration, Effect } from "effect"
import { nextTick } from "./ForgeSchedule.js"

// A late tick is caught up at once, but not before the I/O that is already waiting: on a starved
// CPU, back-to-back catch-up ticks would otherwise keep handshakes from ever being answered
// (measured: a fifth of 1000 handshakes got no answer within 10 s).
const afterPendingIo = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

export const everyInterval = <E, R>(intervalMs: number, step: Effect.Effect<void, E, R>): Effect.Effect<never, E, R> =>
  Effect.gen(function*() {
    let due = (yield* Clock.currentTimeMillis) + intervalMs
    while (true) {
      const slot = nextTick({ due, now: yield* Clock.currentTimeMillis, intervalMs })
      if (slot.waitMs > 0) yield* Effect.sleep(Duration.millis(slot.waitMs))
      else yield* afterPendingIo
      yield* step
      due = slot.due + intervalMs
    }
  })
