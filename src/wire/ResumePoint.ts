/**
 * Where a resuming client says it stands: it has every integer up to `after` of the sequence
 * named `sequence`, or of the one it reaches when it names none. Where one text carries both (an
 * event's id, a Socket.IO pid), it is `<sequence>.<n>`.
 */
import { parseWholeNumber } from "./WholeNumber.js"

export interface ResumePoint {
  readonly after: number
  readonly sequence: string | undefined
}

/** What a request says about where its client stands (`?since=`, `Last-Event-ID`). */
export type Since =
  | { readonly _tag: "Absent" }
  | { readonly _tag: "Since"; readonly point: ResumePoint }
  | { readonly _tag: "Invalid" }

// What the forges draw (base64url) or are called (`shared`): nothing a query or an id must escape.
const sequenceName = /^[A-Za-z0-9_-]{1,64}$/

export const isSequenceName = (text: string): boolean => sequenceName.test(text)

/**
 * The shared sequence's name, the same on every instance. A client whose integers Redis lost is
 * told a restart with a name of its own, `shared-<drawn>`, which every instance knows as this
 * sequence from then on.
 */
export const sharedName = "shared"

const isSharedName = (name: string): boolean =>
  name === sharedName || (name.startsWith(`${sharedName}-`) && isSequenceName(name))

/** Whether `name` is one of the sequence's: its own, or for the shared sequence any `shared-…`. */
export const namesSequence = (name: string, sequence: string, shared: boolean): boolean =>
  shared ? isSharedName(name) : name === sequence

export const pointText = (sequence: string, n: number): string => `${sequence}.${n}`

/** `<sequence>.<n>`, or a bare `<n>` that names no sequence; undefined for anything else. */
export const parsePoint = (text: string): ResumePoint | undefined => {
  const dot = text.lastIndexOf(".")
  const after = parseWholeNumber(text.slice(dot + 1))
  if (after === undefined) return undefined
  if (dot === -1) return { after, sequence: undefined }
  const sequence = text.slice(0, dot)
  return isSequenceName(sequence) ? { after, sequence } : undefined
}

/**
 * The query parameters of a client's next connection: where it stands, if anywhere, and always
 * `sequence` (empty before it has a name), so that the service announces the sequence's name.
 */
export const resumeParams = (since: number | undefined, sequence: string | undefined): Record<string, string> =>
  since === undefined ? { sequence: "" } : { since: String(since), sequence: sequence ?? "" }

/** What a plain WebSocket client that asks (`?sequence=`) and cannot read the 101's headers gets first. */
export const sequenceAnnouncement = (sequence: string): string => `sequence ${sequence}`

/** The name a message announces, or undefined for any other message. */
export const announcedSequence = (text: string): string | undefined => {
  const name = text.startsWith("sequence ") ? text.slice("sequence ".length) : undefined
  return name !== undefined && isSequenceName(name) ? name : undefined
}
