/**
 * Where the server is in its life: serving, leaving (shutdown has begun: the health check answers
 * 503 so that proxies take the instance out, while it still serves and admits as before), or
 * draining (new upgrades and streams are refused, and the sockets are let go). Read
 * synchronously by the health check and the admission gates; only the shutdown moves it on.
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
