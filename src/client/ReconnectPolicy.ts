/**
 * When a client should try again, and how long it should wait first. Pure, so the schedule's
 * bounds are tested without a clock; the client and the demo page follow the same rules (the
 * page's script imports this module, and the build bundles it for the browser).
 *
 * Built for deploys, where every connection is dropped and another instance is already there:
 * - Exponential backoff with full jitter: retry number n waits a uniformly random time in
 *   [0, min(cap, base · 2^n)), so a crowd of clients cut off together spreads out. With the
 *   defaults: under 250 ms, 500 ms, 1 s, 2 s, 4 s, then under 5 s for every later retry.
 * - The count starts over once a connection has delivered an integer, and after a close that
 *   says the server is restarting (1012) or going away (1001): the next retry waits under
 *   `baseMs`, as another instance is there to take the client.
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
}

export const defaultPolicy: ReconnectPolicy = { baseMs: 250, capMs: 5000 }

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
