/**
 * Resuming after a reconnect: a client that connects with `?since=N` first gets the integers
 * after N that the server still holds, then the live ones.
 *
 * The forge's integers are consecutive, so "the last REPLAY_CAPACITY integers" is a range, not
 * a store: what is held at any moment is (last − capacity, last]. The seam between replay and
 * live is exact because the registry replays up to the last integer its fan-out has delivered
 * and adds the socket in the same synchronous step, before the next delivery.
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
