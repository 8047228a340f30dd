/**
 * Socket.IO's connection-state recovery over the one sequence, as pure decisions (the protocol is
 * in docs/socket-io.md). An offset is an integer, as its digits; a pid is `<sequence>.<n>`, the
 * integer after which the client's chain of connections began. The start is in the pid because a
 * connection that does not recover needs a pid other than the client's, on the same sequence, for
 * the client to see `recovered === false`; and a client that ended before its first integer still
 * knows where it stands.
 */
import { parsePoint, pointText, type ResumePoint } from "../wire/ResumePoint.js"
import { parseWholeNumber } from "../wire/WholeNumber.js"

/** Where a CONNECT packet's payload says the client stands. */
export type Recovery =
  /** No pid: a client's first connection, or one that does not recover; `?since=` applies. */
  | { readonly _tag: "Fresh" }
  /** A pid of another sequence: one that restarted, or another instance's without a shared forge. */
  | { readonly _tag: "Elsewhere"; readonly sequence: string }
  /** A pid or offset that is not one of ours. */
  | { readonly _tag: "Unknown" }
  /** The client has every integer of this sequence up to `after`, and holds `pid`. */
  | { readonly _tag: "Resume"; readonly pid: string; readonly after: number }

const fresh: Recovery = { _tag: "Fresh" }
const unknown: Recovery = { _tag: "Unknown" }

/** The pid of a chain of connections on `sequence` that began after the integer `startsAfter`. */
export const pidOf = (sequence: string, startsAfter: number): string => pointText(sequence, startsAfter)

/** The pid and offset in a CONNECT packet's payload (anything JSON can be), against the names of this sequence. */
export const recoveryOf = (payload: unknown, ours: (sequence: string) => boolean): Recovery => {
  if (typeof payload !== "object" || payload === null) return fresh
  const { offset, pid } = payload as { readonly pid?: unknown; readonly offset?: unknown }
  if (pid === undefined) return fresh
  if (typeof pid !== "string") return unknown
  const chain = parsePoint(pid)
  if (chain?.sequence === undefined) return unknown
  if (!ours(chain.sequence)) return { _tag: "Elsewhere", sequence: chain.sequence }
  const start = chain.after
  if (offset === undefined) return { _tag: "Resume", pid, after: start }
  const last = typeof offset === "string" ? parseWholeNumber(offset) : undefined
  if (last === undefined) return unknown
  // Every integer of the chain is after its start: an offset at or below it is older than the
  // chain, and the client has received nothing since the start.
  return { _tag: "Resume", pid, after: Math.max(last, start) }
}

/**
 * Where the socket resumes from, as `since` for the fan-out. The URL's `?since=` counts only on a
 * fresh connection: from the second on, socket.io-client sends the URL of the first again, while
 * its pid and offset say where it stands now. A pid that is not one of ours starts live.
 */
export const resumeAfter = (recovery: Recovery, since: ResumePoint | undefined): ResumePoint | undefined => {
  switch (recovery._tag) {
    case "Fresh":
      return since
    case "Unknown":
      return undefined
    case "Elsewhere":
      return { after: 0, sequence: recovery.sequence }
    case "Resume":
      return { after: recovery.after, sequence: undefined }
  }
}

/**
 * The pid of the CONNECT answer, once the registry has said where the socket starts: the client's
 * own when it misses nothing (recovered), else a new one from where the socket starts.
 */
export const answerPid = (recovery: Recovery, sequence: string, startsAfter: number): string =>
  recovery._tag === "Resume" && recovery.after === startsAfter ? recovery.pid : pidOf(sequence, startsAfter)
