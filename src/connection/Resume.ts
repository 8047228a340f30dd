/**
 * Resuming after a reconnect (`?since=N`): the integers after N still held, then the live ones.
 * The integers are consecutive, so what is held is a range, (last − capacity, last], not a store.
 */
import { queryOf } from "../wire/RequestTarget.js"
import { isSequenceName, namesSequence, type ResumePoint, type Since } from "../wire/ResumePoint.js"
import { parseWholeNumber } from "../wire/WholeNumber.js"

/**
 * What a request's query says about resuming: `since=N`, and the `sequence` N belongs to. A
 * `sequence` parameter is also how a plain WebSocket client asks to be told the name of the
 * sequence it gets (empty on its first connection, when it has none yet).
 */
export const sinceOf = (target: string): Since => {
  const query = queryOf(target)
  const names = query.getAll("sequence")
  if (names.length > 1 || (names.length === 1 && names[0] !== "" && !isSequenceName(names[0]!))) {
    return { _tag: "Invalid" }
  }
  const values = query.getAll("since")
  if (values.length === 0) return { _tag: "Absent" }
  const after = values.length === 1 ? parseWholeNumber(values[0]!) : undefined
  if (after === undefined) return { _tag: "Invalid" }
  return { _tag: "Since", point: { after, sequence: names[0] === "" ? undefined : names[0] } }
}

/** Whether a plain WebSocket client asks to be told the sequence's name (see `Since`). */
export const asksSequenceName = (target: string): boolean => queryOf(target).has("sequence")

/** The integers to replay, as an inclusive range, or undefined for none. */
export const replayRange = (
  after: number,
  delivered: number,
  capacity: number
): { readonly from: number; readonly to: number } | undefined => {
  const oldestHeld = Math.max(1, delivered - capacity + 1)
  const from = Math.max(after + 1, oldestHeld)
  return from <= delivered ? { from, to: delivered } : undefined
}

/** What Redis says of a shared sequence: the highest integer counted, and a restart's name, drawn. */
export interface Counted {
  readonly forged: number
  readonly fresh: string
}

/** How a socket that joins now takes its place in the sequence. */
export interface ResumePlan {
  /** The integers to write before the live ones, if any. */
  readonly replay: { readonly from: number; readonly to: number } | undefined
  /** Live integers up to this one are not written: a shared sequence the client saw first elsewhere. */
  readonly skipUpTo: number | undefined
  /** The last integer before the first one the socket gets: `after` itself when it misses none. */
  readonly startsAfter: number
  /** The name the socket's sequence goes by: the one it announces, and puts in ids and pids. */
  readonly sequence: string
}

/**
 * The plan for a socket that resumes from `point` (undefined: a client that asks for nothing
 * again) in the sequence named `sequence`, `delivered` being the last integer already sent to
 * everyone. A point of another sequence has nothing of this one, and gets every integer still
 * held from its first; so does one ahead of an in-process sequence, which only a sequence that
 * is gone can be (from a client that names none). A point ahead of a shared sequence is one
 * another instance delivered a moment earlier, and waits for it, unless it is past what Redis
 * `counted`: then Redis lost it (a failover to a replica that was behind, an empty restart) with
 * every instance that saw it, and the socket is told a restart, as the sequence `counted.fresh`.
 */
export const resumePlan = (
  point: ResumePoint | undefined,
  delivered: number,
  capacity: number,
  sequence: string,
  shared: boolean,
  counted?: Counted
): ResumePlan => {
  if (point === undefined) return { replay: undefined, skipUpTo: undefined, startsAfter: delivered, sequence }
  const named = point.sequence ?? sequence
  const ours = namesSequence(named, sequence, shared)
  const restart = shared && ours && counted !== undefined && point.after > Math.max(delivered, counted.forged)
  const gone = !ours || restart || (!shared && point.after > delivered)
  const name = restart ? counted.fresh : shared && ours ? named : sequence
  const after = gone ? 0 : point.after
  if (after > delivered) return { replay: undefined, skipUpTo: after, startsAfter: after, sequence: name }
  const replay = replayRange(after, delivered, capacity)
  return {
    replay,
    skipUpTo: undefined,
    startsAfter: replay === undefined ? delivered : replay.from - 1,
    sequence: name
  }
}
