/**
 * Whether the server is still taking work or draining for shutdown. Read synchronously by the
 * upgrade gate and the health check, flipped once when shutdown begins.
 */
import { Context, Effect, Layer } from "effect"

export class Lifecycle extends Context.Tag("IntegerForge/Lifecycle")<Lifecycle, {
  /** True from the moment shutdown begins: new upgrades get 503, the health check 503. */
  readonly isDraining: () => boolean
  readonly beginDraining: Effect.Effect<void>
}>() {
  static readonly layer = Layer.sync(Lifecycle, () => {
    let draining = false
    return {
      isDraining: () => draining,
      beginDraining: Effect.sync(() => {
        draining = true
      })
    }
  })
}
