/**
 * What one instance of the shared forge believes about Redis and its lease, and the log lines a
 * change of belief deserves. Pure: each attempt to take part ends in an event, and the event
 * moves the state.
 *
 * An outage is two lines per instance (unreachable, answers again), not one per interval. A
 * lease is taken and lost in lines of their own, whether it is lost to another instance or to
 * Redis going quiet (a stall long enough for the lease to lapse). Below, in the same way, why
 * the connections to Redis are not up.
 */

import { formatHostPort } from "./RedisEndpoint.js"

export interface ForgeBelief {
  /** Whether the last attempt got an answer from Redis. */
  readonly reachable: boolean
  /** Whether this instance believes it holds the lease. */
  readonly leader: boolean
}

export type AttemptOutcome =
  | { readonly _tag: "Answered"; readonly leader: boolean }
  | { readonly _tag: "Failed" }

export type BeliefLine =
  | "Redis unreachable: integers paused until it answers"
  | "Redis answers again: integers resume"
  | "forge lease taken"
  | "forge lease lost"

export const initialBelief: ForgeBelief = { reachable: true, leader: false }

export const afterAttempt = (
  belief: ForgeBelief,
  outcome: AttemptOutcome
): { readonly belief: ForgeBelief; readonly lines: ReadonlyArray<BeliefLine> } => {
  const lines: Array<BeliefLine> = []
  const reachable = outcome._tag === "Answered"
  // Without an answer the lease cannot be renewed: it is lost, or will be before Redis answers.
  const leader = outcome._tag === "Answered" && outcome.leader
  if (belief.reachable && !reachable) lines.push("Redis unreachable: integers paused until it answers")
  if (!belief.reachable && reachable) lines.push("Redis answers again: integers resume")
  if (belief.leader !== leader) lines.push(leader ? "forge lease taken" : "forge lease lost")
  return { belief: { reachable, leader }, lines }
}

/** How bad each line is, for the log. */
export const lineLevel = (line: BeliefLine): "Info" | "Warning" =>
  line === "Redis unreachable: integers paused until it answers" || line === "forge lease lost" ? "Warning" : "Info"

/**
 * Why an instance's connections to Redis are not up, from the client library's events, and the
 * log lines a change of cause deserves. The attempts above say that integers pause; these say
 * why, from the start and whether or not anyone is connected, in the words an operator can act
 * on (a refused port, a wrong or missing password, a name DNS does not know, silence).
 *
 * The client tries again every second at most, and each try fails the same way: a cause is
 * logged when it differs from the last one logged, and the return to health once, after a cause.
 * A healthy start logs nothing.
 */

/** The instance's two connections: each can fail on its own (a connection limit, an ACL). */
export type ConnectionRole = "commands" | "subscriber"

export const connectionRoles: ReadonlyArray<ConnectionRole> = ["commands", "subscriber"]

/**
 * Why a connection is not up. `at` and `host` come from the endpoint or from the socket's
 * address, never from a URL, so they hold no password.
 */
export type ConnectionCause =
  | { readonly _tag: "Refused"; readonly at: string }
  | { readonly _tag: "HostNotFound"; readonly host: string; readonly code: string }
  /** `silentMs`: nothing at all was heard for that long; undefined: the TCP connect timed out. */
  | { readonly _tag: "TimedOut"; readonly at: string; readonly silentMs: number | undefined }
  | { readonly _tag: "WrongPassword"; readonly at: string; readonly code: string }
  | { readonly _tag: "PasswordMissing"; readonly at: string }
  | { readonly _tag: "NotRedis"; readonly at: string }
  /** `code` undefined: closed without an error. */
  | { readonly _tag: "Dropped"; readonly at: string; readonly code: string | undefined }
  | { readonly _tag: "Other"; readonly at: string; readonly code: string; readonly message: string }

/**
 * Two causes with the same key are the same cause said again (a reconnect that fails as the
 * last did); the address may differ between tries (a name with several addresses).
 */
export const causeKey = (cause: ConnectionCause): string =>
  cause._tag === "Other" || cause._tag === "HostNotFound" ? `${cause._tag} ${cause.code}` : cause._tag

/** The cause in the log's words: the code an operator searches for, where, and what it means. */
export const describeCause = (cause: ConnectionCause): string => {
  switch (cause._tag) {
    case "Refused":
      return `ECONNREFUSED ${cause.at}: nothing listens there, or a firewall refuses the connection`
    case "HostNotFound":
      return `${cause.code} ${cause.host}: ${
        cause.code === "EAI_AGAIN" ? "DNS did not answer for that name" : "DNS does not know that name"
      }`
    case "TimedOut":
      return cause.silentMs === undefined
        ? `ETIMEDOUT ${cause.at}: timeout, no TCP connection`
        : `timeout: no answer from ${cause.at} within ${cause.silentMs} ms`
    case "WrongPassword":
      return `${cause.code} at ${cause.at}: Redis refuses the password (wrong, or its user is disabled)`
    case "PasswordMissing":
      return `NOAUTH at ${cause.at}: Redis wants a password and none was given`
    case "NotRedis":
      return `${cause.at} answers, but not in Redis's protocol`
    case "Dropped":
      return `${cause.code ?? "closed"} at ${cause.at}: the connection was closed before Redis was ready`
    case "Other":
      return `${cause.code} at ${cause.at}: ${cause.message}`
  }
}

const stringField = (value: unknown, name: string): string | undefined => {
  const field = typeof value === "object" && value !== null && name in value
    ? (value as Record<string, unknown>)[name]
    : undefined
  return typeof field === "string" ? field : undefined
}

const numberField = (value: unknown, name: string): number | undefined => {
  const field = typeof value === "object" && value !== null && name in value
    ? (value as Record<string, unknown>)[name]
    : undefined
  return typeof field === "number" ? field : undefined
}

/**
 * What the client library says of a command it refuses because the connection is down, or of a
 * command cut off by a close: a consequence of the cause, not a cause.
 */
const consequences = [
  "Stream isn't writeable and enableOfflineQueue options is false",
  "Connection is closed."
]

const hostNotFound = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_NONAME", "EAI_FAIL", "EAI_NODATA"])

/**
 * The cause an `error` event of the client library names, with `at` where the endpoint says it
 * connects; undefined for an error that names no cause. Its message is kept only for a cause
 * without a known code, and then without `secrets`.
 */
export const classifyError = (
  error: unknown,
  at: string,
  secrets: ReadonlyArray<string> = []
): ConnectionCause | undefined => {
  const message = stringField(error, "message") ?? String(error)
  const name = stringField(error, "name")
  const code = stringField(error, "code")
  const address = stringField(error, "address")
  const port = numberField(error, "port")
  // Where the socket tried: for a name with several addresses, the one that failed.
  const tried = address === undefined ? at : port === undefined ? address : formatHostPort(address, port)
  if (consequences.includes(message) || name === "AbortError") return undefined
  if (code === "ECONNREFUSED") return { _tag: "Refused", at: tried }
  if (code !== undefined && hostNotFound.has(code)) {
    return { _tag: "HostNotFound", host: stringField(error, "hostname") ?? at, code }
  }
  if (code === "ETIMEDOUT") return { _tag: "TimedOut", at: tried, silentMs: undefined }
  if (code === "ECONNRESET" || code === "EPIPE") return { _tag: "Dropped", at: tried, code }
  if (/^WRONGPASS\b/.test(message)) return { _tag: "WrongPassword", at, code: "WRONGPASS" }
  // Redis before 6, without ACLs.
  if (/^ERR invalid password\b/.test(message)) return { _tag: "WrongPassword", at, code: "ERR invalid password" }
  if (/^NOAUTH\b/.test(message)) return { _tag: "PasswordMissing", at }
  if (name === "ParserError") return { _tag: "NotRedis", at }
  if (code !== undefined) return { _tag: "Other", at: tried, code, message: withoutSecrets(message, secrets) }
  // A Redis error reply starts with its code in capitals (LOADING, NOPERM, ERR …).
  const reply = /^([A-Z][A-Z_]+) (.*)$/s.exec(message)
  return reply === null
    ? { _tag: "Other", at, code: name ?? "Error", message: withoutSecrets(message, secrets) }
    : { _tag: "Other", at, code: reply[1]!, message: withoutSecrets(reply[2]!, secrets) }
}

/** What one connection's events last said. */
export type ConnectionState =
  | { readonly _tag: "Pending" }
  | { readonly _tag: "Ready" }
  | { readonly _tag: "Failing"; readonly cause: ConnectionCause }

export type ConnectionEvent =
  | { readonly _tag: "Failed"; readonly role: ConnectionRole; readonly cause: ConnectionCause }
  /** Nothing heard from the connection, neither error nor ready, this long into a try. */
  | { readonly _tag: "Silent"; readonly role: ConnectionRole; readonly at: string; readonly silentMs: number }
  | { readonly _tag: "Ready"; readonly role: ConnectionRole }

export interface ConnectionWatch {
  readonly connections: Readonly<Record<ConnectionRole, ConnectionState>>
  /** The key of the cause last logged, "ready" once health was logged; undefined before either. */
  readonly logged: string | undefined
}

export type ConnectionLine =
  | { readonly _tag: "Failing"; readonly cause: ConnectionCause }
  | { readonly _tag: "Ready" }

export const initialWatch: ConnectionWatch = {
  connections: { commands: { _tag: "Pending" }, subscriber: { _tag: "Pending" } },
  logged: undefined
}

/**
 * The instance's condition: the first failing connection's state (commands before subscriber),
 * else ready when both are, else pending (a connection has not said anything yet).
 */
export const condition = (connections: ConnectionWatch["connections"]): ConnectionState =>
  connectionRoles.map((role) => connections[role]).find((state) => state._tag === "Failing") ??
    (connectionRoles.every((role) => connections[role]._tag === "Ready") ? { _tag: "Ready" } : { _tag: "Pending" })

const stateAfter = (state: ConnectionState, event: ConnectionEvent): ConnectionState => {
  switch (event._tag) {
    case "Failed":
      return { _tag: "Failing", cause: event.cause }
    case "Ready":
      return { _tag: "Ready" }
    case "Silent":
      // A ready connection is not silent: whoever timed it did not see it become ready.
      return state._tag === "Ready"
        ? state
        : { _tag: "Failing", cause: { _tag: "TimedOut", at: event.at, silentMs: event.silentMs } }
  }
}

/** The watch after one connection event, and the line to log, if the instance's cause changed. */
export const afterConnectionEvent = (
  watch: ConnectionWatch,
  event: ConnectionEvent
): { readonly watch: ConnectionWatch; readonly line: ConnectionLine | undefined } => {
  const connections = { ...watch.connections, [event.role]: stateAfter(watch.connections[event.role], event) }
  const now = condition(connections)
  if (now._tag === "Failing" && causeKey(now.cause) !== watch.logged) {
    return { watch: { connections, logged: causeKey(now.cause) }, line: now }
  }
  if (now._tag === "Ready" && watch.logged !== undefined && watch.logged !== "ready") {
    return { watch: { connections, logged: "ready" }, line: now }
  }
  return { watch: { connections, logged: watch.logged }, line: undefined }
}

/**
 * `text` with none of `secrets` in it: a text that holds one is not shown at all, since what
 * stands in for a secret could, beside the text around it, spell one again.
 */
export const withoutSecrets = (text: string, secrets: ReadonlyArray<string>): string => {
  const holds = (t: string) => secrets.some((secret) => secret !== "" && t.includes(secret))
  if (!holds(text)) return text
  return ["(withheld: it held the password)", "(withheld)", ""].find((t) => !holds(t))!
}
