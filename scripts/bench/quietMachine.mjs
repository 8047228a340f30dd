/**
 * Waits, within a bounded budget, for the rest of the machine to be quiet before a measurement.
 * The benchmark shares 2 cores with whatever else runs (test suites, builds); a run that starts
 * while something else holds a core measures that as much as the server. Alternating rounds
 * keeps ratios fair, and waiting for a quiet moment keeps the figures themselves closer to
 * what the servers cost.
 */
import { sleep } from "./clock.mjs"
import { machineBusyMs } from "./processStats.mjs"

/**
 * Resolves once the machine's busy CPU over `sampleMs` is under `busyPercent` of one core, or
 * once `maxWaitMs` has passed; gives the time waited and the last busy share seen. The caller
 * runs nothing of its own meanwhile, so all of the busy time is someone else's.
 */
export const waitForQuiet = async ({ busyPercent = 25, maxWaitMs = 20_000, sampleMs = 500 } = {}) => {
  const started = Date.now()
  let busy = Infinity
  while (Date.now() - started < maxWaitMs) {
    const before = machineBusyMs()
    await sleep(sampleMs)
    busy = ((machineBusyMs() - before) / sampleMs) * 100
    if (busy < busyPercent) break
  }
  return { waitedMs: Date.now() - started, busyPercent: busy }
}

/** A waiting budget shared by a whole run, so that a machine busy throughout adds bounded time. */
export const quietBudget = (totalMs) => {
  let left = totalMs
  return async () => {
    if (left <= 0) return { waitedMs: 0, busyPercent: NaN }
    const result = await waitForQuiet({ maxWaitMs: Math.min(20_000, left) })
    left -= result.waitedMs
    return result
  }
}
