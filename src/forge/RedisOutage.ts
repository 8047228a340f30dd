/**
 * What the shared forge logs about Redis, decided by pure functions: an outage as two lines
 * (unreachable, answers again), not one per interval; a lease taken or lost as a line of its own;
 * why a connection is not up, in words an operator can act on, each time the cause differs from
 * the last logged (ioredis tries again every second); health again once after a cause.
 */
import { LogLevel } from "effect"
import { formatHostPort } from "./RedisEndpoint.js"

/** What an attempt found: whether Redis answered, and whether this instance holds the lease. */
export interface AttemptOutcome {
  readonly reachable: boolean
  readonly leader: boolean
}

export const initialOutcome: AttemptOutcome = { reachable: true, leader: false }

/** Without an answer the lease cannot be renewed: it is lost, or will be before Redis answers. */
export const unanswered: AttemptOutcome = { reachable: false, leader: false }

export type LogLine = readonly [LogLevel.LogLevel, string]

/** The lines that the change from one attempt's outcome to the next deserves. */
export const outcomeLines = (before: AttemptOutcome, after: AttemptOutcome): ReadonlyArray<LogLine> => [
  ...(before.reachable === after.reachable ? [] : [
    after.reachable
      ? [LogLevel.Info, "Redis answers again: integers resume"] as const
      : [LogLevel.Warning, "Redis unreachable: integers paused until it answers"] as const
  ]),
  ...(before.leader === after.leader ? [] : [
    after.leader ? [LogLevel.Info, "forge lease taken"] as const : [LogLevel.Warning, "forge lease lost"] as const
  ])
]

/** Why a connection is not up, as the log says it; it never holds a password. */
export interface ConnectionCause {
  /** The log's `cause` field. */
  readonly kind:
    | "Refused"
    | "HostNotFound"
    | "TimedOut"
    | "WrongPassword"
    | "PasswordMissing"
    | "NotRedis"
    | "Dropped"
    | "Other"
  /** The code an operator searches for, where, and what it means. */
  readonly text: string
  /**
   * The same for the same cause said again (a reconnect that fails as the last did), though the
   * address may differ between tries (a name with several addresses).
   */
  readonly key: string
}

const cause = (kind: ConnectionCause["kind"], text: string, code?: string): ConnectionCause => ({
  kind,
  text,
  key: code === undefined ? kind : `${kind} ${code}`
})

/** Nothing at all was heard from a connection for `silentMs` into a try. */
export const silent = (at: string, silentMs: number) =>
  cause("TimedOut", `timeout: no answer from ${at} within ${silentMs} ms`)

/** Closed without an error before it was ready. */
export const closed = (at: string) =>
  cause("Dropped", `closed at ${at}: the connection was closed before Redis was ready`)

/**
 * What the client library says of a command it refuses because the connection is down, or of a
 * command cut off by a close: a consequence of the cause, not a cause.
 */
const consequences = ["Stream isn't writeable and enableOfflineQueue options is false", "Connection is closed."]

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
  const field = (name: string) => {
    const value = typeof error === "object" && error !== null ? (error as Record<string, unknown>)[name] : undefined
    return typeof value === "string" ? value : undefined
  }
  const [name, code, address] = ["name", "code", "address"].map(field)
  const message = field("message") ?? String(error)
  const port = (error as { readonly port?: unknown } | null)?.port
  // Where the socket tried: for a name with several addresses, the one that failed.
  const tried = address === undefined ? at : typeof port === "number" ? formatHostPort(address, port) : address
  if (consequences.includes(message) || name === "AbortError") return undefined
  if (code === "ECONNREFUSED") {
    return cause("Refused", `ECONNREFUSED ${tried}: nothing listens there, or a firewall refuses the connection`)
  }
  if (code !== undefined && hostNotFound.has(code)) {
    const meaning = code === "EAI_AGAIN" ? "DNS did not answer for that name" : "DNS does not know that name"
    return cause("HostNotFound", `${code} ${field("hostname") ?? at}: ${meaning}`, code)
  }
  if (code === "ETIMEDOUT") return cause("TimedOut", `ETIMEDOUT ${tried}: timeout, no TCP connection`)
  if (code === "ECONNRESET" || code === "EPIPE") {
    return cause("Dropped", `${code} at ${tried}: the connection was closed before Redis was ready`)
  }
  // ERR invalid password: Redis before 6, without ACLs.
  const password = /^(WRONGPASS|ERR invalid password)\b/.exec(message)?.[1]
  if (password !== undefined) {
    return cause("WrongPassword", `${password} at ${at}: Redis refuses the password (wrong, or its user is disabled)`)
  }
  if (/^NOAUTH\b/.test(message)) {
    return cause("PasswordMissing", `NOAUTH at ${at}: Redis wants a password and none was given`)
  }
  if (name === "ParserError") return cause("NotRedis", `${at} answers, but not in Redis's protocol`)
  const shown = (text: string) => withoutSecrets(text, secrets)
  if (code !== undefined) return cause("Other", `${code} at ${tried}: ${shown(message)}`, code)
  // A Redis error reply starts with its code in capitals (LOADING, NOPERM, ERR …).
  const [, replyCode = name ?? "Error", text = message] = /^([A-Z][A-Z_]+) (.*)$/s.exec(message) ?? []
  return cause("Other", `${replyCode} at ${at}: ${shown(text)}`, replyCode)
}

/** The instance's two connections: each can fail on its own (a connection limit, an ACL). */
export type ConnectionRole = "commands" | "subscriber"

/** What a connection's events last said: a cause, ready, or nothing yet (undefined). */
export type ConnectionState = ConnectionCause | "ready" | undefined

export interface CauseWatch {
  readonly commands: ConnectionState
  readonly subscriber: ConnectionState
  /** The key of the cause last logged, "ready" once health was logged; undefined before either. */
  readonly logged: string | undefined
}

export const initialWatch: CauseWatch = { commands: undefined, subscriber: undefined, logged: undefined }

/**
 * The instance's condition: the first failing connection's cause (commands before subscriber),
 * else ready when both are, else undefined (a connection has not said anything yet).
 */
export const condition = ({ commands, subscriber }: CauseWatch): ConnectionState =>
  typeof commands === "object"
    ? commands
    : typeof subscriber === "object"
    ? subscriber
    : commands === "ready" && subscriber === "ready"
    ? "ready"
    : undefined

/** The watch after a connection's event, and what to log if the instance's condition changed. */
export const afterConnectionEvent = (
  watch: CauseWatch,
  role: ConnectionRole,
  state: Exclude<ConnectionState, undefined>
): { readonly watch: CauseWatch; readonly line: ConnectionState } => {
  const next = { ...watch, [role]: state }
  const now = condition(next)
  const key = now === "ready" ? (watch.logged === undefined ? undefined : "ready") : now?.key
  return key === undefined || key === watch.logged
    ? { watch: next, line: undefined }
    : { watch: { ...next, logged: key }, line: now }
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
