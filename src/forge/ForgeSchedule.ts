/**
 * When the forge's next integer is due: a pure rule, so that its edge cases are tested apart
 * from any clock.
 *
 * Ticks are anchored to the forge's start (start + k·interval), not to the previous tick, so
 * the schedule does not drift. A tick that comes late is forged at once and the following ones
 * stay on their slots, so a short stall (GC pause, busy event loop) is caught up rather than
 * lost. A stall longer than `maxCatchUpMs` is not replayed as a burst: the schedule restarts
 * from now.
 */

/** The longest stall the forge catches up on; a longer one re-anchors the schedule. */
export const maxCatchUpMs = 1000

export interface TickStep {
  /** The slot this tick fills (the next one is `due + intervalMs`). */
  readonly due: number
  /** How long to wait before forging it. */
  readonly waitMs: number
}

export const nextTick = (
  options: { readonly due: number; readonly now: number; readonly intervalMs: number }
): TickStep => {
  const { due, intervalMs, now } = options
  if (due >= now) return { due, waitMs: due - now }
  if (now - due > Math.max(maxCatchUpMs, intervalMs)) return { due: now, waitMs: 0 }
  return { due, waitMs: 0 }
}

/** How long after the leader's next integer was due an instance that does not lead tries itself. */
export const followMarginMs = (intervalMs: number): number => Math.min(Math.floor(intervalMs / 5), 200)

/**
 * When an instance of the shared forge that does not lead tries next: just after the leader's
 * next integer was due (the last new one heard, an interval, a margin), so that a leader that
 * leaves is followed nearly at its own pace; and no sooner than an interval after its own last try.
 */
export const followerTryAt = (
  options: { readonly heardAt: number; readonly triedAt: number; readonly intervalMs: number }
): number => {
  const { heardAt, intervalMs, triedAt } = options
  return Math.max(heardAt + intervalMs + followMarginMs(intervalMs), triedAt + intervalMs)
}
