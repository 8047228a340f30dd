/**
 * The service's whole decision on an upgrade or a stream request, as pure functions: draining,
 * the rules of `Handshake.ts`, the dialect, the resume point, and room for one more connection.
 */
import type { Capacity } from "../connection/Connections.js"
import { asksSequenceName, sinceOf } from "../connection/Resume.js"
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
import type { ResumePoint, Since } from "../wire/ResumePoint.js"

export type Admission =
  | Refusal
  | {
    readonly _tag: "Accept"
    readonly dialect: Exclude<Dialect, { _tag: "Refuse" }>
    readonly since: ResumePoint | undefined
    /** Whether it asks to be told the sequence's name (`?sequence=`). */
    readonly asksSequenceName: boolean
  }

// `Retry-After: 0` (RFC 9110): come back at once, as another instance can take the client now.
export const draining = refuse("draining", 503, "Server is shutting down; reconnect shortly", { "retry-after": "0" })

export const atCapacity = refuse("capacity", 503, "Server is at capacity; try again later")

export const invalidSince = refuse(
  "since",
  400,
  "Invalid since: expected one non-negative whole number (the last integer received) and at most one sequence name"
)

const pointOf = (since: Since) => since._tag === "Since" ? since.point : undefined

export const admit = (request: UpgradeRequest, policy: UpgradePolicy, state: Capacity): Admission => {
  if (state.draining) return draining
  const verdict = judgeUpgrade(request, policy)
  if (verdict._tag === "Refuse") return verdict
  const dialect = dialectOf(request.target)
  if (dialect._tag === "Refuse") {
    return { ...refuse("engine.io", dialect.status, dialect.body), contentType: "application/json" }
  }
  const since = sinceOf(request.target)
  if (since._tag === "Invalid") return invalidSince
  if (state.open >= state.maxConnections) return atCapacity
  return { _tag: "Accept", dialect, since: pointOf(since), asksSequenceName: asksSequenceName(request.target) }
}

/** In the order of `admit`, for an event stream: its resume point is `Last-Event-ID`, else `?since=`. */
export const admitStream = (
  request: Pick<UpgradeRequest, "target" | "headers">,
  policy: UpgradePolicy,
  state: Capacity
) => {
  if (state.draining) return draining
  const origin = judgeOrigin(request.headers, policy)
  if (origin._tag === "Refused") return originRefused
  const fromHeader = lastEventIdOf(request.headers["last-event-id"])
  const resume = fromHeader._tag === "Absent" ? sinceOf(request.target) : fromHeader
  if (resume._tag === "Invalid") return invalidSince
  if (state.open >= state.maxConnections) return atCapacity
  const corsOrigin = origin._tag === "Allowed" ? origin.origin : undefined
  return { _tag: "Accept" as const, since: pointOf(resume), corsOrigin }
}
