/**
 * Where the server is in its life: serving, leaving (shutdown has begun: the health check answers
 * 503 so that proxies take the instance out, while it still serves and admits as before), or
 * draining (new upgrades and streams are refused, and the sockets are let go). Read
 * synchronously by the health check and the admission gates; each step is taken once.
 */
import { Context, Effect, Layer } from "effect"

export type Phase = "serving" | "leaving" | "draining"

export class Lifecycle extends Context.Tag("IntegerForge/Lifecycle")<Lifecycle, {
  readonly phase: () => Phase
  /** Shutdown begins: the health check answers 503 from now on. */
  readonly beginLeaving: Effect.Effect<void>
  /** New upgrades and streams are refused (503) from now on. */
  readonly beginDraining: Effect.Effect<void>
}>() {
  static readonly layer = Layer.sync(Lifecycle, () => {
    let phase: Phase = "serving"
    return {
      phase: () => phase,
      beginLeaving: Effect.sync(() => {
        if (phase === "serving") phase = "leaving"
      }),
      beginDraining: Effect.sync(() => {
        phase = "draining"
      })
    }
  })
}
