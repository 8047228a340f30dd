/** For log lines that come as a storm: at most one line a second of each kind. */
export const rateLimitPeriodMs = 1000

/**
 * For each line of `kind`, how many of that kind were held back since the last one let through,
 * or undefined when this one is held back too.
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
