/**
 * The service's whole decision on an upgrade request at the edge, as one pure function: whether
 * the server is draining, the rules of `Handshake.ts`, which dialect the request speaks, its
 * `since`, and whether there is room for one more socket. ws checks the handshake itself after.
 */
import type { Capacity } from "../connection/Connections.js"
import { asksSequenceName, type Since, sinceOf } from "../connection/Resume.js"
import { type Dialect, dialectOf } from "../socketio/SocketIoProtocol.js"
import { lastEventIdOf } from "../wire/EventStream.js"
import {
  judgeOrigin,
  judgeUpgrade,
  originRefused,
  type Refusal,
  refuse,
  type UpgradePolicy,
  type UpgradeRequest
} from "../wire/Handshake.js"
import type { ResumePoint } from "../wire/ResumePoint.js"

export type Admission =
  | Refusal
  | {
    readonly _tag: "Accept"
    readonly dialect: Exclude<Dialect, { _tag: "Refuse" }>
    /** Where the client stands, when it resumes. */
    readonly since: ResumePoint | undefined
    /** Whether it asks to be told the sequence's name (`?sequence=`). */
    readonly asksSequenceName: boolean
  }

/** What the edge knows of itself when a request arrives: `Connections`' room, for every kind. */
export type EdgeState = Capacity

/**
 * The answer to an upgrade while the server drains. `Retry-After: 0` (RFC 9110): come back at
 * once, as another instance can take the client now; the refusal header says `draining`.
 */
export const draining = refuse("draining", 503, "Server is shutting down; reconnect shortly", { "retry-after": "0" })

export const atCapacity = refuse("capacity", 503, "Server is at capacity; try again later")

export const invalidSince = refuse(
  "since",
  400,
  "Invalid since: expected one non-negative whole number (the last integer received) and at most one sequence name"
)

const sinceValue = (since: Exclude<Since, { _tag: "Invalid" }>) => since._tag === "Since" ? since.point : undefined

export const admit = (request: UpgradeRequest, policy: UpgradePolicy, state: EdgeState): Admission => {
  if (state.draining) return draining
  const verdict = judgeUpgrade(request, policy)
  if (verdict._tag === "Refuse") return verdict
  const dialect = dialectOf(request.target)
  if (dialect._tag === "Refuse") {
    return {
      _tag: "Refuse",
      key: "engine.io",
      status: dialect.status,
      reason: dialect.body,
      contentType: "application/json"
    }
  }
  const since = sinceOf(request.target)
  if (since._tag === "Invalid") return invalidSince
  if (state.open >= state.maxConnections) return atCapacity
  return { _tag: "Accept", dialect, since: sinceValue(since), asksSequenceName: asksSequenceName(request.target) }
}

/** A request for an event stream (Server-Sent Events) on a WebSocket path. */
export interface StreamRequest {
  readonly target: string
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
}

export type StreamAdmission =
  | Refusal
  | {
    readonly _tag: "Accept"
    readonly since: ResumePoint | undefined
    /** The origin to allow in CORS headers: a cross-origin page the policy lets in. */
    readonly corsOrigin: string | undefined
  }

/**
 * The decision on an event stream, in the order of `admit`: draining, origin (`judgeOrigin`, the
 * rule upgrades follow too), the resume point (`Last-Event-ID`, else `?since=`), capacity. Streams
 * count toward the same connection limit as WebSockets.
 */
export const admitStream = (request: StreamRequest, policy: UpgradePolicy, state: EdgeState): StreamAdmission => {
  if (state.draining) return draining
  const origin = judgeOrigin(request.headers, policy)
  if (origin._tag === "Refused") return originRefused
  const fromHeader = lastEventIdOf(request.headers["last-event-id"])
  const resume = fromHeader._tag === "Absent" ? sinceOf(request.target) : fromHeader
  if (resume._tag === "Invalid") return invalidSince
  if (state.open >= state.maxConnections) return atCapacity
  return {
    _tag: "Accept",
    since: resume._tag === "Since" ? resume.point : undefined,
    corsOrigin: origin._tag === "Allowed" ? origin.origin : undefined
  }
}
