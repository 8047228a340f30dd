/**
 * Instances sharing a forge even out their connections. A rolling deploy leaves them lopsided (a
 * proxy sends each reconnecting client to an instance that is up at that moment, and the one
 * restarted last gets none); so every instance posts its count on the forge's load board, and one
 * above its share, once the set of instances has settled, hands the excess over: a few closes with
 * 1012 right after an integer, for its clients to resume elsewhere as after a restart.
 */
import { Effect, Layer } from "effect"
import { ForgeConfig, ServerConfig } from "../Config.js"
import { IntegerForge, type LoadBoard } from "../forge/IntegerForge.js"
import { Lifecycle } from "../ops/Lifecycle.js"
import { Metrics } from "../ops/Metrics.js"
import { serviceRestart } from "../wire/CloseCodes.js"
import type { Connection } from "./Connection.js"
import { Connections } from "./Connections.js"
import { excessOf, roundSize } from "./FairShare.js"

// An event stream's client waits for its `retry:` before it comes back: streams go last.
const kindsInOrder = ["plain", "socket.io", "sse"] as const

/** Up to `count` connections not closing yet, the longest-held first, kind by kind. */
const chooseOldest = (open: ReadonlySet<Connection>, count: number): Array<Connection> => {
  const chosen: Array<Connection> = []
  for (const kind of kindsInOrder) {
    for (const connection of open) {
      if (chosen.length === count) return chosen
      if (connection.kind === kind && connection.closeReason === undefined) chosen.push(connection)
    }
  }
  return chosen
}

const rebalance = (board: LoadBoard) =>
  Effect.gen(function*() {
    const { rebalance: settings } = yield* ServerConfig
    const { intervalMs: forgeIntervalMs } = yield* ForgeConfig
    const connections = yield* Connections
    const lifecycle = yield* Lifecycle
    const metrics = yield* Metrics
    const serving = () => lifecycle.phase() === "serving"
    const budget = Math.floor((settings.maxPerSecond * settings.intervalMs) / 1000)
    // A round hands over in slices, one after each integer it lasts.
    const passes = Math.max(1, Math.floor(settings.intervalMs / forgeIntervalMs))
    let instances = ""
    let justHandedOver = false
    let settledAt = Date.now() + settings.settleMs

    // Right after an integer was written, in the same step: a client has the whole interval to
    // come back before it misses one; if it takes longer, the replay gives it what it missed.
    let closed = 0
    const handOver = (count: number) =>
      Effect.async<void>((resume) => {
        const slice = Math.ceil(count / passes)
        let left = count
        let active = true
        const closeSlice = () => {
          if (!active) return
          if (serving()) {
            for (const connection of chooseOldest(connections.open, Math.min(slice, left))) {
              connection.closeBy("rebalance", serviceRestart)
              closed++
            }
            left -= slice
          }
          if (serving() && left > 0) return connections.atNextPass(closeSlice)
          active = false
          resume(Effect.void)
        }
        connections.atNextPass(closeSlice)
        return Effect.sync(() => (active = false))
      }).pipe(Effect.timeout(Math.floor(settings.intervalMs * 0.9)), Effect.ignore)

    const round = Effect.gen(function*() {
      const own = connections.open.size
      const loads = yield* board.post(own, settings.intervalMs * 3)
      const names = [...loads.keys()].sort().join(" ")
      const now = Date.now()
      if (names !== instances) {
        instances = names
        settledAt = Math.max(settledAt, now + settings.settleMs)
      }
      // The round after a hand-over only posts: the moved clients land, and every instance posts
      // its count again, before the next decision.
      if (now < settledAt || justHandedOver) return void (justHandedOver = false)
      const counts = [...loads.values()]
      const count = roundSize(excessOf(own, counts, settings.tolerancePercent / 100), budget)
      if (count === 0) return
      const share = Math.round(counts.reduce((a, b) => a + b, 0) / counts.length)
      yield* Effect.logInfo(`rebalancing: handing over ${count} connections`).pipe(
        Effect.annotateLogs({ connections: own, share, instances: counts.length })
      )
      closed = 0
      yield* handOver(count)
      metrics.handedOver(closed)
      justHandedOver = true
    })

    // Off the board as soon as this instance leaves, so that the others stop counting it.
    while (serving()) {
      const next = Date.now() + settings.intervalMs
      // A round Redis did not answer is skipped; the forge's log says why.
      yield* Effect.ignore(round)
      while (serving() && Date.now() < next) yield* Effect.sleep(Math.min(250, next - Date.now()))
    }
    yield* board.leave
  })

/** The rebalancing, with the shared forge; nothing without it. */
export const layer = Layer.scopedDiscard(Effect.gen(function*() {
  const { loads } = yield* IntegerForge
  if (loads === undefined) return
  yield* Effect.addFinalizer(() => Effect.timeout(loads.leave, 1000).pipe(Effect.ignore))
  yield* Effect.forkScoped(rebalance(loads))
}))
