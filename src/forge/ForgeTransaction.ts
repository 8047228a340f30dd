/**
 * What one attempt of the shared forge writes to Redis, decided from what it read under WATCH
 * (docs/scaling.md lists the commands); `RedisTransaction.ts` sends them. Redis runs the writes
 * only if neither key changed since the WATCH, as if read and writes were one step.
 */

/** The keys and the channel of one deployment, all under its prefix. */
export const redisNames = (prefix: string) => ({
  leader: `${prefix}:leader`,
  counter: `${prefix}:counter`,
  channel: `${prefix}:integers`
})

export type RedisNames = ReturnType<typeof redisNames>

/** A Redis command as ioredis takes it in a pipeline: the name, then the arguments. */
export type Command = readonly [name: string, ...args: Array<string>]

/** What the first round trip read. */
export interface Watched {
  /** The instance holding the lease, or null when nobody does. */
  readonly leader: string | null
  /** The counter: the last integer forged, 0 when Redis holds none (new, or restarted empty). */
  readonly counter: number
}

/** The writes of the second round trip, if any. */
export type Writes =
  /** Acquire or renew the lease, raise the counter to `raiseTo` if given, count and publish. */
  | { readonly _tag: "Forge"; readonly raiseTo: number | undefined; readonly integer: number }
  /** Another instance leads, but the counter is below what this instance has seen: raise it. */
  | { readonly _tag: "RaiseCounter"; readonly raiseTo: number }
  /** Release the lease: it is this instance's. */
  | { readonly _tag: "Release" }
  | { readonly _tag: "Nothing" }

/** The first round trip, the same for every attempt. */
export const readCommands = (names: RedisNames): ReadonlyArray<Command> => [
  // A `WATCH` left by an attempt that wrote nothing (or timed out) would still be in force, and
  // a key it saw change would abort this attempt's `EXEC`.
  ["unwatch"],
  ["watch", names.leader, names.counter],
  ["mget", names.leader, names.counter]
]

/** The `MGET` reply, or undefined when the counter holds something other than a whole number. */
export const parseWatched = (reply: ReadonlyArray<string | null>): Watched | undefined => {
  const [leader = null, counter = null] = reply
  if (counter === null) return { leader, counter: 0 }
  return /^\d{1,15}$/.test(counter) ? { leader, counter: Number(counter) } : undefined
}

/**
 * A tick of an instance with clients, which has seen integers up to `highestSeen`: it forges when
 * the lease is free or its own, and in any case raises a counter below `highestSeen`, so that a
 * Redis that came back empty goes on above the highest integer any such instance has seen.
 */
export const tickWrites = (watched: Watched, me: string, highestSeen: number): Writes => {
  const raiseTo = watched.counter < highestSeen ? highestSeen : undefined
  if (watched.leader === null || watched.leader === me) {
    return { _tag: "Forge", raiseTo, integer: Math.max(watched.counter, highestSeen) + 1 }
  }
  return raiseTo === undefined ? { _tag: "Nothing" } : { _tag: "RaiseCounter", raiseTo }
}

/** An instance whose last client left: it releases the lease if, and only if, it holds it. */
export const releaseWrites = (watched: Watched, me: string): Writes =>
  watched.leader === me ? { _tag: "Release" } : { _tag: "Nothing" }

/** The commands between `MULTI` and `EXEC`; none for `Nothing`. */
export const writeCommands = (
  writes: Writes,
  names: RedisNames,
  me: string,
  leaseMs: number
): ReadonlyArray<Command> => {
  switch (writes._tag) {
    case "Forge":
      return [
        ...(writes.raiseTo === undefined ? [] : [["set", names.counter, String(writes.raiseTo)] as const]),
        ["set", names.leader, me, "PX", String(leaseMs)],
        ["incr", names.counter],
        // The integer is known before `EXEC`: the counter cannot move between the read and it.
        ["publish", names.channel, String(writes.integer)]
      ]
    case "RaiseCounter":
      return [["set", names.counter, String(writes.raiseTo)]]
    case "Release":
      return [["del", names.leader]]
    case "Nothing":
      return []
  }
}

/**
 * What an attempt came to: whether this instance leads, and the integer it forged, if any.
 * `replies`: the `EXEC` reply, one per write command; null when Redis aborted the transaction (a
 * watched key changed), or when there was nothing to write. Undefined when the `INCR` counted
 * something other than the integer published, which `WATCH` rules out: a bug, or not Redis.
 */
export const settle = (
  watched: Watched,
  me: string,
  writes: Writes,
  replies: ReadonlyArray<unknown> | null
): { readonly leader: boolean; readonly forged: number | undefined } | undefined => {
  if (writes._tag !== "Forge") return { leader: false, forged: undefined }
  // Aborted: a concurrent write won. A leader that lost a race with a raise of the counter
  // still holds its lease; one that tried to take a free lease does not know it has it.
  if (replies === null) return { leader: watched.leader === me, forged: undefined }
  const counted = replies.at(-2)
  return counted === writes.integer ? { leader: true, forged: writes.integer } : undefined
}
