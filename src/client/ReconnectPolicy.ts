/**
 * When a client should try again, and how long it should wait first. Pure, so the schedule's
 * bounds are tested without a clock; the client library, the CLI and the demo page follow the
 * same rules (the page's script imports this module, and the build bundles it for the browser).
 *
 * Built for deploys, where every connection is dropped and another instance is already there:
 * - Exponential backoff with full jitter: retry number n waits a uniformly random time in
 *   [0, min(cap, base · 2^n)), so a crowd of clients cut off together spreads out. With the
 *   defaults: under 250 ms, 500 ms, 1 s, 2 s, 4 s, then under 5 s for every later retry.
 * - The count starts over once a connection has delivered an integer, and after a close that
 *   says the server is restarting (1012) or going away (1001): the next retry waits under
 *   `baseMs`, as another instance is there to take the client.
 * - After such a close, the next few attempts (`quickRetries`) that meet an instance which is
 *   itself going away (a 503 that says it drains) or that fail before opening (all a browser can
 *   see of a refused handshake) are retried under `baseMs / 2`, without growing the backoff:
 *   behind a proxy that still routes to a draining instance for a second or two, the next
 *   attempt most likely reaches another one, and such a refusal took one round trip. The budget
 *   is small and spent once per close, so a service that is down or overloaded still sees the
 *   backoff grow.
 * - A close that means "do not come back" (1008 policy violation, and the 4000–4999 range that
 *   applications reserve for themselves) ends the client, as does a refused handshake with a
 *   4xx status other than 408 and 429: trying again would get the same answer.
 */
import { applicationCodes, closeCodes } from "../wire/CloseCodes.js"

export interface ReconnectPolicy {
  /** The ceiling of the first retry's delay. */
  readonly baseMs: number
  /** No delay ever exceeds this; socket.io-client's default maximum is the same 5 s. */
  readonly capMs: number
  /**
   * How many attempts after a 1012 or 1001 close may meet a draining instance (or fail before
   * opening) and still be retried quickly. Five when not said: behind a round-robin proxy with
   * one instance of four draining, one reconnect in about a thousand meets it five times running.
   */
  readonly quickRetries?: number
}

const defaultQuickRetries = 5

export const defaultPolicy: ReconnectPolicy = { baseMs: 250, capMs: 5000, quickRetries: defaultQuickRetries }

/** What a close code asks of the client. */
export type CloseVerdict = "retry-now" | "backoff" | "stop"

const retryNowCodes: ReadonlyArray<number> = [closeCodes.serviceRestart, closeCodes.goingAway]
const stopCodes: ReadonlyArray<number> = [closeCodes.policyViolation]

export const verdictForClose = (code: number): CloseVerdict => {
  if (retryNowCodes.includes(code)) return "retry-now"
  if (stopCodes.includes(code)) return "stop"
  return code >= applicationCodes.from && code <= applicationCodes.to ? "stop" : "backoff"
}

/** What a refused handshake's HTTP status asks of the client. */
export const verdictForStatus = (status: number): Exclude<CloseVerdict, "retry-now"> =>
  status >= 400 && status < 500 && status !== 408 && status !== 429 ? "stop" : "backoff"

/** The ceiling of the delay before retry number `attempt` (0 for the first). */
export const backoffCeiling = (attempt: number, policy: ReconnectPolicy = defaultPolicy): number =>
  Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 52))

/** The delay before retry number `attempt`, given a uniform random number in [0, 1). */
export const backoffDelay = (attempt: number, random: number, policy: ReconnectPolicy = defaultPolicy): number =>
  Math.floor(random * backoffCeiling(attempt, policy))

/**
 * The retry count after a connection closed with `code`: 0 once it delivered an integer or when
 * the server is restarting or going away, else unchanged.
 */
export const attemptAfter = (attempt: number, deliveredInteger: boolean, code: number): number =>
  deliveredInteger || verdictForClose(code) === "retry-now" ? 0 : attempt

/** Where a client stands between two attempts. */
export interface RetryState {
  /** The backoff's retry count. */
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

const backoff = (attempt: number, quickLeft: number, random: number, policy: ReconnectPolicy) =>
  ({
    _tag: "Retry",
    delayMs: backoffDelay(attempt, random, policy),
    state: { attempt: attempt + 1, quickLeft }
  }) as const

/**
 * What to do after `ending`, given a uniform random number in [0, 1): stop, or wait `delayMs`
 * and try again from `state`.
 */
export const decide = (
  state: RetryState,
  ending: Ending,
  random: number,
  policy: ReconnectPolicy = defaultPolicy
): Decision => {
  switch (ending._tag) {
    case "Closed": {
      if (verdictForClose(ending.code) === "stop") return { _tag: "Stop" }
      const restarting = verdictForClose(ending.code) === "retry-now"
      const attempt = attemptAfter(state.attempt, ending.delivered, ending.code)
      return backoff(attempt, restarting ? policy.quickRetries ?? defaultQuickRetries : 0, random, policy)
    }
    case "Refused":
      if (verdictForStatus(ending.status) === "stop") return { _tag: "Stop" }
      if (!ending.draining) return backoff(state.attempt, 0, random, policy)
      break
    case "Failed":
      break
  }
  return state.quickLeft > 0
    ? {
      _tag: "Retry",
      delayMs: Math.floor(random * backoffCeiling(0, policy) / 2),
      state: { attempt: state.attempt, quickLeft: state.quickLeft - 1 }
    }
    : backoff(state.attempt, 0, random, policy)
}
