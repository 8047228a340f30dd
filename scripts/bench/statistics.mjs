/**
 * The few statistics the benchmark reports: medians and ranges across rounds, percentiles of
 * fan-out spreads within a round.
 */

const ascending = (values) => [...values].sort((a, b) => a - b)

/** The q-quantile (0 ≤ q ≤ 1) by linear interpolation between closest ranks; NaN when empty. */
export const quantile = (values, q) => {
  const sorted = ascending(values)
  if (sorted.length === 0) return NaN
  const rank = q * (sorted.length - 1)
  const below = Math.floor(rank)
  const above = Math.min(sorted.length - 1, below + 1)
  return sorted[below] + (sorted[above] - sorted[below]) * (rank - below)
}

export const median = (values) => quantile(values, 0.5)

/** Median, minimum and maximum of the finite values (rounds that produced no figure are left out). */
export const summarize = (values) => {
  const finite = values.filter((v) => Number.isFinite(v))
  return {
    median: median(finite),
    min: finite.length === 0 ? NaN : Math.min(...finite),
    max: finite.length === 0 ? NaN : Math.max(...finite),
    count: finite.length
  }
}

export const sum = (values) => values.reduce((total, v) => total + v, 0)
