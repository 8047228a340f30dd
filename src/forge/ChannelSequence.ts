/**
 * What an instance of the shared forge does with an integer received on the Redis channel. The
 * integers are consecutive, so one received after a gap (a subscription that dropped and came
 * back) says which were forged meanwhile: those are delivered too, in order, up to what a client
 * could have asked to replay anyway (`REPLAY_CAPACITY`). A larger jump is delivered as a jump.
 */

export interface Received {
  /** The highest integer received so far. */
  readonly last: number
  /** What to deliver, in order: nothing for an integer already received. */
  readonly deliver: ReadonlyArray<number>
  /** Integers forged meanwhile and not delivered, as the jump was too large. */
  readonly skipped: number
}

/** `last` is 0 while nothing was received or read from Redis: there is then no gap to speak of. */
export const receive = (last: number, n: number, capacity: number): Received => {
  if (n <= last) return { last, deliver: [], skipped: 0 }
  const missed = last === 0 ? 0 : n - last - 1
  if (missed > capacity) return { last: n, deliver: [n], skipped: missed }
  return { last: n, deliver: Array.from({ length: missed + 1 }, (_, i) => n - missed + i), skipped: 0 }
}
