/**
 * The whole decision on an upgrade request at the edge, as one pure function: the handshake
 * rules of `Handshake.ts`, then whether the server is draining, which dialect the request speaks,
 * its `since`, and whether there is room for one more socket.
 */
import { type Since, sinceOf } from "../fanout/Resume.js"
import { type Dialect, dialectOf } from "../socketio/SocketIoProtocol.js"
import { judgeUpgrade, type UpgradePolicy, type UpgradeRequest, type UpgradeVerdict } from "../wire/Handshake.js"

export type Refusal = Extract<UpgradeVerdict, { _tag: "Refuse" }>

export type Admission =
  | Refusal
  | {
    readonly _tag: "Accept"
    readonly dialect: Exclude<Dialect, { _tag: "Refuse" }>
    /** The last integer the client has, when it resumes. */
    readonly since: number | undefined
  }

/** What the edge knows of itself when a request arrives. */
export interface EdgeState {
  readonly draining: boolean
  readonly openSockets: number
  readonly maxConnections: number
}

export const draining: Refusal = {
  _tag: "Refuse",
  key: "draining",
  status: 503,
  reason: "Server is shutting down; reconnect shortly"
}

export const atCapacity: Refusal = {
  _tag: "Refuse",
  key: "capacity",
  status: 503,
  reason: "Server is at capacity; try again later"
}

export const invalidSince: Refusal = {
  _tag: "Refuse",
  key: "since",
  status: 400,
  reason: "Invalid since: expected one non-negative whole number (the last integer received)"
}

const sinceValue = (since: Exclude<Since, { _tag: "Invalid" }>) => since._tag === "Since" ? since.after : undefined

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
  if (state.openSockets >= state.maxConnections) return atCapacity
  return { _tag: "Accept", dialect, since: sinceValue(since) }
}
