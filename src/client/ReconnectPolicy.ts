/**
 * When a client should try again, and how long it waits first: docs/operations.md's "Suggested
 * reconnect policy", for the client library, the CLI and the demo page. Pure, so its bounds are
 * tested without a clock, and browser-safe: the demo page's bundle imports it.
 */
import { applicationCodes, closeCodes } from "../wire/CloseCodes.js"

export interface ReconnectPolicy {
  /** The ceiling of the first retry's delay. */
  readonly baseMs: number
  /** No delay ever exceeds this; socket.io-client's default maximum is the same 5 s. */
  readonly capMs: number
  /**
   * How many attempts after a 1012 or 1001 close may meet a draining instance (or fail before
   * opening) and still be retried under `baseMs / 2`. Five when not said: behind a round-robin
   * proxy with one instance of four draining, one reconnect in about a thousand meets it five times.
   */
  readonly quickRetries?: number
}

const defaultQuickRetries = 5

export const defaultPolicy: ReconnectPolicy = { baseMs: 250, capMs: 5000, quickRetries: defaultQuickRetries }

/** What a close code asks of the client. */
export const verdictForClose = (code: number): "retry-now" | "backoff" | "stop" => {
  if (code === closeCodes.serviceRestart || code === closeCodes.goingAway) return "retry-now"
  const applications = code >= applicationCodes.from && code <= applicationCodes.to
  return code === closeCodes.policyViolation || applications ? "stop" : "backoff"
}

/** What a refused handshake's HTTP status asks of the client: the same request gets the same 4xx. */
export const verdictForStatus = (status: number): "backoff" | "stop" =>
  status >= 400 && status < 500 && status !== 408 && status !== 429 ? "stop" : "backoff"

/** The ceiling of the delay before retry number `attempt` (0 for the first). */
export const backoffCeiling = (attempt: number, policy: ReconnectPolicy = defaultPolicy): number =>
  Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 52))

/** The delay before retry number `attempt`, given a uniform random number in [0, 1): full jitter. */
export const backoffDelay = (attempt: number, random: number, policy: ReconnectPolicy = defaultPolicy): number =>
  Math.floor(random * backoffCeiling(attempt, policy))

/** The retry count after a close: 0 once the connection delivered an integer, or after 1012 or 1001. */
export const attemptAfter = (attempt: number, deliveredInteger: boolean, code: number): number =>
  deliveredInteger || verdictForClose(code) === "retry-now" ? 0 : attempt

/** Where a client stands between two attempts. */
export interface RetryState {
  readonly attempt: number
  /** Quick retries left since the last 1012 or 1001 close. */
  readonly quickLeft: number
}

export const initialRetryState: RetryState = { attempt: 0, quickLeft: 0 }

/** How an attempt ended, as far as the policy is concerned. */
export type Ending =
  /** An open connection closed, with whether it delivered an integer. */
  | { readonly _tag: "Closed"; readonly code: number; readonly delivered: boolean }
  /** The handshake was answered with this status; `draining` when the instance said it is going away. */
  | { readonly _tag: "Refused"; readonly status: number; readonly draining: boolean }
  /** No connection, or one that ended before it opened (a browser's only view of a refusal). */
  | { readonly _tag: "Failed" }

export type Decision =
  | { readonly _tag: "Stop" }
  | { readonly _tag: "Retry"; readonly delayMs: number; readonly state: RetryState }

const retry = (delayMs: number, attempt: number, quickLeft: number): Decision => ({
  _tag: "Retry",
  delayMs,
  state: { attempt, quickLeft }
})

/**
 * What to do after `ending`, given a uniform random number in [0, 1): stop, or wait `delayMs`
 * and try again from `state`.
 */
export const decide = (state: RetryState, ending: Ending, random: number, policy = defaultPolicy): Decision => {
  const backoff = (attempt: number, quickLeft: number) =>
    retry(backoffDelay(attempt, random, policy), attempt + 1, quickLeft)
  if (ending._tag === "Closed") {
    const verdict = verdictForClose(ending.code)
    if (verdict === "stop") return { _tag: "Stop" }
    const quickLeft = verdict === "retry-now" ? policy.quickRetries ?? defaultQuickRetries : 0
    return backoff(attemptAfter(state.attempt, ending.delivered, ending.code), quickLeft)
  }
  if (ending._tag === "Refused") {
    if (verdictForStatus(ending.status) === "stop") return { _tag: "Stop" }
    if (!ending.draining) return backoff(state.attempt, 0)
  }
  return state.quickLeft > 0
    ? retry(Math.floor(random * backoffCeiling(0, policy) / 2), state.attempt, state.quickLeft - 1)
    : backoff(state.attempt, 0)
}
