/**
 * Server-Sent Events (`text/event-stream`) as this service speaks them, as pure functions. An
 * event's `id` is `<sequence>.<n>` so that `EventSource`, which sends it back as `Last-Event-ID`
 * when it reconnects by itself, says which sequence it resumes in.
 */
import { Encoding } from "./Encoding.js"
import { parsePoint, pointText, type Since } from "./ResumePoint.js"

/** Whether an `Accept` header asks for an event stream (what `EventSource` sends). */
export const wantsEventStream = (accept: string | undefined): boolean =>
  accept !== undefined && /(?:^|,)\s*text\/event-stream\s*(?:;|,|$)/i.test(accept)

export const integerEvent = (sequence: string, n: number): Buffer =>
  Buffer.from(`id: ${pointText(sequence, n)}\ndata: ${n}\n\n`)

export const eventStreamEncoding = (sequence: string): Encoding => new Encoding((n) => integerEvent(sequence, n))

/**
 * The headers every stream response carries, a full one and one that ends at once alike: proxies
 * must pass each event on as it comes, not store or compress the stream.
 */
export const streamHeaders = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform"
} as const

export const keepAliveComment = ": keep-alive\n\n"

/** The first bytes of every stream: `EventSource` waits this long (1 s) before it reconnects. */
export const streamPreamble = "retry: 1000\n\n"

/** How often a quiet stream gets a comment, so that idle proxies (often 30–60 s) keep it open. */
export const keepAliveMs = 15_000

/** An event's id as `EventSource` sends it back: `<sequence>.<n>`, or a bare `<n>`. */
export const lastEventIdOf = (header: string | ReadonlyArray<string> | undefined): Since => {
  if (header === undefined) return { _tag: "Absent" }
  const point = typeof header === "string" ? parsePoint(header.trim()) : undefined
  return point === undefined ? { _tag: "Invalid" } : { _tag: "Since", point }
}
