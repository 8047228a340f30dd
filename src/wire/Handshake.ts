/**
 * The decision on a WebSocket upgrade request, made before any byte of WebSocket is spoken:
 * accept it, or refuse it with an HTTP status and a reason a person can read.
 *
 * Pure: the same function judges raw `upgrade` events and plain GETs on WebSocket paths, and
 * its refusals are rendered to bytes by `refusalResponse`.
 */
import { type RawResponse, rawResponse, refusalHeader } from "./HttpResponse.js"
import { allowedPrefixes, isAllowedTarget } from "./RequestTarget.js"

export interface UpgradeRequest {
  readonly method: string
  readonly target: string
  readonly httpVersion: string
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
}

export type UpgradeVerdict =
  | { readonly _tag: "Accept" }
  | {
    readonly _tag: "Refuse"
    /** A short, fixed name for the reason, for metrics and logs. */
    readonly key: string
    readonly status: number
    readonly reason: string
    readonly headers?: Readonly<Record<string, string>>
    /** The body's type; plain text unless said otherwise (Engine.IO errors are JSON). */
    readonly contentType?: string
  }

const accept: UpgradeVerdict = { _tag: "Accept" }

const refuse = (key: string, status: number, reason: string, headers?: Record<string, string>): UpgradeVerdict =>
  headers === undefined ? { _tag: "Refuse", key, status, reason } : { _tag: "Refuse", key, status, reason, headers }

const single = (value: string | ReadonlyArray<string> | undefined): string | undefined =>
  typeof value === "string" ? value : value?.join(",")

const tokens = (value: string | undefined): Array<string> =>
  value === undefined ? [] : value.split(",").map((t) => t.trim().toLowerCase())

// RFC 6455 §4.1: the key is 16 bytes, base64-encoded: 22 characters and "==".
const websocketKey = /^[A-Za-z0-9+/]{22}==$/

// RFC 6455 §4.1 / RFC 7230 §3.2.6: subprotocols are tokens, listed with commas.
const subprotocols = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*,[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+)*$/

export const notAllowedReason = `WebSocket upgrades are accepted only on paths starting with ${
  allowedPrefixes.join(" or ")
}`

// RFC 9110 §7.2 / RFC 3986 §3.2.2: a host name (reg-name characters) or a bracketed IP literal,
// with an optional port.
const hostSyntax = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%!$&'()*+,;=-]+)(?::\d{0,5})?$/

/**
 * Why the Host header of an HTTP/1.1 request is unacceptable, or undefined when it is fine.
 * Node's own check is turned off so that this refusal, too, carries our headers.
 */
export const hostProblem = (
  httpVersion: string,
  host: string | ReadonlyArray<string> | undefined
): string | undefined => {
  const value = single(host)
  if (value === undefined) return httpVersion === "1.1" ? "Missing Host header" : undefined
  return hostSyntax.test(value) ? undefined : "Invalid Host header"
}

const defaultPorts: Record<string, string> = { "http:": "80", "https:": "443", "ws:": "80", "wss:": "443" }

/**
 * Whether a browser's `Origin` names the host the request was sent to: a page the service served
 * itself (its demo page), which `ALLOWED_ORIGINS` cannot mean to lock out. The scheme is not
 * compared, as a proxy in front may end TLS; host names and ports are, with the scheme's default
 * port where none is written.
 */
export const isSameOrigin = (origin: string, host: string | undefined): boolean => {
  if (host === undefined) return false
  try {
    const from = new URL(origin)
    const to = new URL(`${from.protocol}//${host.trim()}`)
    const port = (url: URL) => url.port === "" ? defaultPorts[url.protocol] ?? "" : url.port
    return from.hostname !== "" && from.hostname === to.hostname && port(from) === port(to)
  } catch {
    return false
  }
}

/** Whether the policy lets a cross-origin page in: no list, or the origin on it (any case). */
export const originAllowed = (origin: string, policy: UpgradePolicy): boolean =>
  policy.allowedOrigins === undefined ||
  policy.allowedOrigins.some((allowed) => allowed.toLowerCase() === origin.toLowerCase())

/** Where a request comes from, as far as the origin rule cares. */
export type OriginVerdict =
  | { readonly _tag: "NoOrigin" }
  | { readonly _tag: "SameOrigin" }
  /** A cross-origin page the policy lets in, its `Origin` as sent (for CORS headers). */
  | { readonly _tag: "Allowed"; readonly origin: string }
  | { readonly _tag: "Refused" }

/**
 * The one origin rule, for upgrades and event streams alike: no `Origin` (not a browser), the
 * host the request was sent to, or an origin the policy allows passes; anything else is refused.
 */
export const judgeOrigin = (
  headers: UpgradeRequest["headers"],
  policy: UpgradePolicy
): OriginVerdict => {
  const origin = single(headers["origin"])?.trim()
  if (origin === undefined) return { _tag: "NoOrigin" }
  if (isSameOrigin(origin.toLowerCase(), single(headers["host"]))) return { _tag: "SameOrigin" }
  return originAllowed(origin, policy) ? { _tag: "Allowed", origin } : { _tag: "Refused" }
}

/** The refusal of a page whose origin the rule refuses. */
export const originRefused: Extract<UpgradeVerdict, { _tag: "Refuse" }> = {
  _tag: "Refuse",
  key: "origin",
  status: 403,
  reason: "Origin not allowed"
}

/** What the operator configured about who may connect. */
export interface UpgradePolicy {
  /**
   * When set, a request carrying an `Origin` header must name one of these (compared without
   * regard to case) or the host the request was sent to (same origin). Browsers always send `Origin`; a request without one comes from a
   * non-browser client (websocat, a server), which cross-site WebSocket hijacking cannot use, so
   * it is let through.
   */
  readonly allowedOrigins?: ReadonlyArray<string> | undefined
}

/** Judges a request that asks (or should have asked) to become a WebSocket. */
export const judgeUpgrade = (request: UpgradeRequest, policy: UpgradePolicy = {}): UpgradeVerdict => {
  if (!isAllowedTarget(request.target)) return refuse("path", 404, notAllowedReason)
  if (request.method !== "GET") return refuse("method", 400, "A WebSocket upgrade must use GET")
  if (request.httpVersion !== "1.1") return refuse("http-version", 400, "A WebSocket upgrade needs HTTP/1.1")
  const headers = request.headers
  const badHost = hostProblem(request.httpVersion, headers["host"])
  if (badHost !== undefined) return refuse("host", 400, badHost)
  // `ws` accepts exactly "websocket" here (any case), not a list that contains it.
  if (single(headers["upgrade"])?.trim().toLowerCase() !== "websocket") {
    return refuse("upgrade-header", 400, "This path accepts WebSocket upgrades only: send Upgrade: websocket")
  }
  if (!tokens(single(headers["connection"])).includes("upgrade")) {
    return refuse("connection-header", 400, "This path accepts WebSocket upgrades only: send Connection: Upgrade")
  }
  if (single(headers["sec-websocket-version"])?.trim() !== "13") {
    return refuse("version", 400, "Unsupported Sec-WebSocket-Version: this server speaks version 13", {
      "Sec-WebSocket-Version": "13"
    })
  }
  const key = single(headers["sec-websocket-key"])?.trim()
  if (key === undefined || !websocketKey.test(key)) return refuse("key", 400, "Missing or invalid Sec-WebSocket-Key")
  const protocols = single(headers["sec-websocket-protocol"])
  if (protocols !== undefined && !subprotocols.test(protocols)) {
    return refuse("subprotocol", 400, "Invalid Sec-WebSocket-Protocol: expected a comma-separated list of tokens")
  }
  return judgeOrigin(headers, policy)._tag === "Refused" ? originRefused : accept
}

/** The bytes of the HTTP response that refuses an upgrade; the connection closes after it. */
export const refusalResponse = (verdict: Extract<UpgradeVerdict, { _tag: "Refuse" }>): string =>
  rawResponse(refusal(verdict))

/** The HTTP response that refuses an upgrade. */
export const refusal = (verdict: Extract<UpgradeVerdict, { _tag: "Refuse" }>): RawResponse => ({
  status: verdict.status,
  body: verdict.reason + "\n",
  contentType: verdict.contentType,
  headers: { [refusalHeader]: verdict.key, ...verdict.headers }
})
