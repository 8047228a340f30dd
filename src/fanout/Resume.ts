/**
 * Resuming after a reconnect: a client that connects with `?since=N` first gets the integers
 * after N that the server still holds, then the live ones.
 *
 * The forge's integers are consecutive, so "the last REPLAY_CAPACITY integers" is a range, not
 * a store: what is held at any moment is (last − capacity, last]. The seam between replay and
 * live is exact because the registry replays up to the last integer its fan-out has delivered
 * and adds the socket in the same synchronous step, before the next delivery.
 */

/** A `since` query parameter, read from a request target. */
export type Since =
  | { readonly _tag: "Absent" }
  | { readonly _tag: "Since"; readonly after: number }
  | { readonly _tag: "Invalid" }

export const sinceOf = (target: string): Since => {
  const queryStart = target.indexOf("?")
  if (queryStart === -1) return { _tag: "Absent" }
  const values = new URLSearchParams(target.slice(queryStart + 1).split("#")[0]).getAll("since")
  if (values.length === 0) return { _tag: "Absent" }
  const value = values[0]!
  if (values.length > 1 || !/^\d{1,15}$/.test(value)) return { _tag: "Invalid" }
  return { _tag: "Since", after: Number(value) }
}

export const invalidSinceReason = "Invalid since: expected one non-negative whole number (the last integer received)"

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
