/**
 * What an instance of the shared forge does with an integer heard on the Redis channel. The
 * integers are consecutive, so one heard after a gap (a subscription that dropped and came back)
 * says which were forged meanwhile: those are delivered too, in order, up to what a client could
 * have asked to replay anyway (`REPLAY_CAPACITY`). A larger jump is delivered as a jump, and said.
 */

export interface Heard {
  /** The highest integer heard so far. */
  readonly last: number
  /** What to deliver, in order: nothing for an integer already heard. */
  readonly deliver: ReadonlyArray<number>
  /** Integers forged meanwhile and not delivered, as the jump was too large. */
  readonly skipped: number
}

/** `last` is 0 while nothing was heard or read from Redis: there is then no gap to speak of. */
export const hear = (last: number, n: number, capacity: number): Heard => {
  if (n <= last) return { last, deliver: [], skipped: 0 }
  const missed = last === 0 ? 0 : n - last - 1
  if (missed > capacity) return { last: n, deliver: [n], skipped: missed }
  const deliver: Array<number> = []
  for (let m = n - missed; m <= n; m++) deliver.push(m)
  return { last: n, deliver, skipped: 0 }
}
