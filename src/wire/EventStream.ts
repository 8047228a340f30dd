/**
 * Server-Sent Events (the HTML standard's `text/event-stream`) as this service speaks them, as
 * pure functions: which requests ask for a stream, how an integer is written, what a resuming
 * client said it has.
 *
 * Each integer is one event whose `id` and `data` are the integer, so that `EventSource` sends
 * it back as `Last-Event-ID` when it reconnects by itself; the stream starts with a `retry`
 * hint, and a comment line now and then keeps proxies from closing a quiet stream.
 */
import type { Audience } from "./Audience.js"
import { parseWholeNumber } from "./WholeNumber.js"

/** Whether an `Accept` header asks for an event stream (what `EventSource` sends). */
export const wantsEventStream = (accept: string | undefined): boolean =>
  accept !== undefined && /(?:^|,)\s*text\/event-stream\s*(?:;|,|$)/i.test(accept)

/** One integer, as one event. */
export const integerEvent = (n: number): Buffer => Buffer.from(`id: ${n}\ndata: ${n}\n\n`)

/** Event-stream clients: each integer as one event. */
export const eventStreamAudience: Audience = { encode: integerEvent }

/** The first bytes of every stream: how long `EventSource` waits before it reconnects. */
export const streamPreamble = (retryMs: number): string => `retry: ${retryMs}\n\n`

/**
 * The headers every stream response carries, a full one and one that ends at once alike: proxies
 * must pass each event on as it comes, not store or compress the stream.
 */
export const streamHeaders = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform"
} as const

/** A comment, which clients ignore, for idle proxies to see bytes go by. */
export const keepAliveComment = ": keep-alive\n\n"

/** How long `EventSource` waits before it reconnects, as the stream's first line tells it. */
export const retryMs = 1000

/** How often a quiet stream gets a comment, so that idle proxies (often 30–60 s) keep it open. */
export const keepAliveMs = 15_000

/** What a resuming stream asked for: `Last-Event-ID` (what `EventSource` sends), else `?since=`. */
export type StreamResume =
  | { readonly _tag: "Absent" }
  | { readonly _tag: "Since"; readonly after: number }
  | { readonly _tag: "Invalid" }

export const lastEventIdOf = (header: string | ReadonlyArray<string> | undefined): StreamResume => {
  if (header === undefined) return { _tag: "Absent" }
  const after = typeof header === "string" ? parseWholeNumber(header.trim()) : undefined
  return after === undefined ? { _tag: "Invalid" } : { _tag: "Since", after }
}
