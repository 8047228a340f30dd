/**
 * The server's phase: serving; leaving (the health check answers 503, all else as before); draining
 * (new upgrades and streams are refused). Read synchronously; only the shutdown moves it on.
 */
import { Context, Effect, Layer } from "effect"

export type Phase = "serving" | "leaving" | "draining"

export class Lifecycle extends Context.Tag("IntegerForge/Lifecycle")<Lifecycle, {
  readonly phase: () => Phase
  readonly enter: (phase: Phase) => Effect.Effect<void>
}>() {
  static readonly layer = Layer.sync(Lifecycle, () => {
    let current: Phase = "serving"
    return {
      phase: () => current,
      enter: (phase) =>
        Effect.sync(() => {
          current = phase
        })
    }
  })
}
