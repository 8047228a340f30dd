/**
 * Runs an effect once per interval, forever, on the drift-free slots of `ForgeSchedule`. Both
 * forges tick with it: the in-process one forges, the shared one takes part in Redis.
 */
import { Clock, Duration, Effect } from "effect"
import { nextTick } from "./ForgeSchedule.js"

export const everyInterval = <E, R>(intervalMs: number, step: Effect.Effect<void, E, R>): Effect.Effect<never, E, R> =>
  Effect.gen(function*() {
    let due = (yield* Clock.currentTimeMillis) + intervalMs
    while (true) {
      const slot = nextTick({ due, now: yield* Clock.currentTimeMillis, intervalMs })
      if (slot.waitMs > 0) yield* Effect.sleep(Duration.millis(slot.waitMs))
      yield* step
      due = slot.due + intervalMs
    }
  })
