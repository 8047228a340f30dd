/**
 * Whether instances sharing a forge are out of balance, and how many connections one of them
 * hands over: pure, so that convergence is tested without a clock or a proxy.
 */

/** Loads within `tolerance` (a fraction) of their mean, or one connection of it, are balanced. */
export const balanced = (loads: ReadonlyArray<number>, tolerance: number): boolean => {
  const share = loads.reduce((a, b) => a + b, 0) / loads.length
  const slack = Math.max(share * tolerance, 1)
  return loads.every((load) => Math.abs(load - share) <= slack)
}

/**
 * How many of its `own` connections an instance should hand over, given every instance's load
 * (its own included): none while the loads are balanced; otherwise what it holds above its share.
 * Only an instance above the mean gives any: there is one while some instance is below it.
 */
export const excessOf = (own: number, loads: ReadonlyArray<number>, tolerance: number): number => {
  if (loads.length < 2 || balanced(loads, tolerance)) return 0
  const share = loads.reduce((a, b) => a + b, 0) / loads.length
  // Down to the share's whole part: in 9, 9, 9, 9, 9, 7 (a share of 8.67) only a 9 can move one.
  return Math.max(0, own - Math.floor(share))
}

/**
 * How many to hand over in one round: the whole excess, up to `budget`. It cannot overshoot: a
 * proxy that spreads the moved clients evenly sends each instance below its share a part of them,
 * together no more than the others' excess, which is its deficit.
 */
export const roundSize = (excess: number, budget: number): number => Math.min(budget, excess)
