/**
 * Resuming after a reconnect: a client that connects with `?since=N` first gets the integers
 * after N that the server still holds, then the live ones.
 *
 * The forge's integers are consecutive, so "the last REPLAY_CAPACITY integers" is a range, not
 * a store: what is held at any moment is (last − capacity, last]. The seam between replay and
 * live is exact because the registry replays up to the last integer its fan-out has delivered
 * and adds the socket in the same synchronous step, before the next delivery. Socket.IO clients
 * that recover their connection's state resume by the same rules (`socketio/Recovery.ts`).
 */
import { queryOf } from "../wire/RequestTarget.js"
import { parseWholeNumber } from "../wire/WholeNumber.js"

/** A `since` query parameter, read from a request target. */
export type Since =
  | { readonly _tag: "Absent" }
  | { readonly _tag: "Since"; readonly after: number }
  | { readonly _tag: "Invalid" }

export const sinceOf = (target: string): Since => {
  const values = queryOf(target).getAll("since")
  if (values.length === 0) return { _tag: "Absent" }
  const after = values.length === 1 ? parseWholeNumber(values[0]!) : undefined
  return after === undefined ? { _tag: "Invalid" } : { _tag: "Since", after }
}

/**
 * The integers to replay, as an inclusive range, or undefined for none. `delivered` is the last
 * integer already sent to everyone; `capacity` how many of the latest the server holds.
 */
export const replayRange = (
  after: number,
  delivered: number,
  capacity: number
): { readonly from: number; readonly to: number } | undefined => {
  const oldestHeld = Math.max(1, delivered - capacity + 1)
  const from = Math.max(after + 1, oldestHeld)
  return from <= delivered ? { from, to: delivered } : undefined
}

/** How a socket that joins now takes its place in the sequence. */
export interface ResumePlan {
  /** The integers to write before the live ones, if any. */
  readonly replay: { readonly from: number; readonly to: number } | undefined
  /**
   * Live integers up to this one are not written: the client has them already. Only a shared
   * sequence can be ahead of this instance (it hears an integer a moment after another did).
   */
  readonly skipUpTo: number | undefined
  /** The last integer before the first one the socket gets: `after` itself when it misses none. */
  readonly startsAfter: number
}

/**
 * The plan for a socket that has every integer up to `after` (undefined: a client that asks for
 * nothing again), `delivered` being the last integer already sent to everyone. An in-process
 * sequence behind the client's `after` has started over, and the client is told so by its name.
 */
export const resumePlan = (
  after: number | undefined,
  delivered: number,
  capacity: number,
  shared: boolean
): ResumePlan => {
  if (after === undefined) return { replay: undefined, skipUpTo: undefined, startsAfter: delivered }
  if (after > delivered) {
    return shared
      ? { replay: undefined, skipUpTo: after, startsAfter: after }
      : { replay: undefined, skipUpTo: undefined, startsAfter: delivered }
  }
  const replay = replayRange(after, delivered, capacity)
  return { replay, skipUpTo: undefined, startsAfter: replay === undefined ? delivered : replay.from - 1 }
}
