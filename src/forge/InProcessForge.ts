/**
 * The forge of a single instance: a sliding PubSub of integers plus one ticking fiber held in an
 * `RcRef`. The first subscriber starts the fiber, the last one to leave interrupts it, and the
 * counter lives outside the fiber so the sequence carries on across idle periods.
 */
import { Effect, Layer, PubSub } from "effect"
import { randomBytes } from "node:crypto"
import { ForgeConfig } from "../Config.js"
import { makeDemandDrivenPubSub } from "./DemandDrivenPubSub.js"
import { IntegerForge } from "./IntegerForge.js"
import { everyInterval } from "./Ticker.js"

/** The in-process forge. Needs `ForgeConfig`. */
export const layer = Layer.scoped(
  IntegerForge,
  Effect.gen(function*() {
    const { bufferCapacity, intervalMs } = yield* ForgeConfig
    let last = 0

    // Counting and publishing are one uninterruptible step, so stopping the forge can never
    // use up an integer that nobody received.
    const forgeOne = (pubsub: PubSub.PubSub<number>) =>
      Effect.uninterruptible(Effect.suspend(() => PubSub.publish(pubsub, ++last)))

    const { running, subscribe, subscribers } = yield* makeDemandDrivenPubSub({
      capacity: bufferCapacity,
      worker: (pubsub) => Effect.asVoid(Effect.forkScoped(everyInterval(intervalMs, forgeOne(pubsub))))
    })

    const statusNow = () => ({ running: running(), last, subscribers: subscribers() })

    // 9 random bytes: 12 characters, and no two processes alike in practice.
    return {
      subscribe,
      status: Effect.sync(statusNow),
      statusNow,
      sequence: randomBytes(9).toString("base64url"),
      counted: Effect.succeed(undefined),
      loads: undefined
    }
  })
)
