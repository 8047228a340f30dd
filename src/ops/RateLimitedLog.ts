/**
 * For log lines that come as a storm (accept errors when descriptors run out, refused upgrades
 * in a flood): at most one line a second for each kind, and the next line that gets through
 * says how many were held back. One line a second says what is happening without flooding.
 */

export const rateLimitPeriodMs = 1000

/**
 * A gate for lines of several kinds. For each line, it answers how many lines of that kind were
 * held back since the last one it let through, or undefined when this one must be held back too.
 */
export const makeLogGate = (now: () => number = Date.now) => {
  const lastPassed = new Map<string, { at: number; heldBack: number }>()
  return (kind: string): number | undefined => {
    const at = now()
    const last = lastPassed.get(kind)
    if (last !== undefined && at - last.at < rateLimitPeriodMs) {
      last.heldBack++
      return undefined
    }
    lastPassed.set(kind, { at, heldBack: 0 })
    return last?.heldBack ?? 0
  }
}
