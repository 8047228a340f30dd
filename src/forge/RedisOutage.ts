/**
 * What one instance of the shared forge believes about Redis and its lease, and the log lines a
 * change of belief deserves. Pure: each attempt to take part ends in an event, and the event
 * moves the state.
 *
 * An outage is two lines per instance (unreachable, answers again), not one per interval. A
 * lease is taken and lost in lines of their own, whether it is lost to another instance or to
 * Redis going quiet (a stall long enough for the lease to lapse).
 */

export interface ForgeBelief {
  /** Whether the last attempt got an answer from Redis. */
  readonly reachable: boolean
  /** Whether this instance believes it holds the lease. */
  readonly leader: boolean
}

export type AttemptOutcome =
  | { readonly _tag: "Answered"; readonly leader: boolean }
  | { readonly _tag: "Failed" }

export type BeliefLine =
  | "Redis unreachable: integers paused until it answers"
  | "Redis answers again: integers resume"
  | "forge lease taken"
  | "forge lease lost"

export const initialBelief: ForgeBelief = { reachable: true, leader: false }

export const afterAttempt = (
  belief: ForgeBelief,
  outcome: AttemptOutcome
): { readonly belief: ForgeBelief; readonly lines: ReadonlyArray<BeliefLine> } => {
  const lines: Array<BeliefLine> = []
  const reachable = outcome._tag === "Answered"
  // Without an answer the lease cannot be renewed: it is lost, or will be before Redis answers.
  const leader = outcome._tag === "Answered" && outcome.leader
  if (belief.reachable && !reachable) lines.push("Redis unreachable: integers paused until it answers")
  if (!belief.reachable && reachable) lines.push("Redis answers again: integers resume")
  if (belief.leader !== leader) lines.push(leader ? "forge lease taken" : "forge lease lost")
  return { belief: { reachable, leader }, lines }
}

/** How bad each line is, for the log. */
export const lineLevel = (line: BeliefLine): "Info" | "Warning" =>
  line === "Redis unreachable: integers paused until it answers" || line === "forge lease lost" ? "Warning" : "Info"
