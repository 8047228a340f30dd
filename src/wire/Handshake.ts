/**
 * The service's own rules for a WebSocket upgrade request, decided before ws sees it, for raw
 * `upgrade` events and plain GETs on WebSocket paths alike. ws makes the handshake's own checks
 * (`Sec-WebSocket-Key`, …); `handshakeRefused` gives its refusals our headers.
 */
import { type RawResponse, refusalHeader } from "./HttpResponse.js"
import { allowedPrefixes, isAllowedTarget } from "./RequestTarget.js"

export interface UpgradeRequest {
  readonly target: string
  readonly httpVersion: string
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
}

export interface Refusal {
  readonly _tag: "Refuse"
  /** A short, fixed name for the reason, for metrics, logs and `refusalHeader`. */
  readonly key: string
  readonly status: number
  readonly reason: string
  readonly headers?: Readonly<Record<string, string>>
  /** Plain text unless said otherwise (Engine.IO errors are JSON). */
  readonly contentType?: string
}

export type UpgradeVerdict = { readonly _tag: "Accept" } | Refusal

const accept: UpgradeVerdict = { _tag: "Accept" }

export const refuse = (key: string, status: number, reason: string, headers?: Record<string, string>): Refusal =>
  headers === undefined ? { _tag: "Refuse", key, status, reason } : { _tag: "Refuse", key, status, reason, headers }

const single = (value: string | ReadonlyArray<string> | undefined): string | undefined =>
  typeof value === "string" ? value : value?.join(",")

const notAllowedReason = `WebSocket upgrades are accepted only on paths starting with ${allowedPrefixes.join(" or ")}`

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
 * Whether a browser's `Origin` names the host the request was sent to (the demo page, which
 * `ALLOWED_ORIGINS` cannot mean to lock out). Not the scheme, as a proxy in front may end TLS.
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

type OriginVerdict =
  | { readonly _tag: "NoOrigin" }
  | { readonly _tag: "SameOrigin" }
  /** A cross-origin page the policy lets in, its `Origin` as sent (for CORS headers). */
  | { readonly _tag: "Allowed"; readonly origin: string }
  | { readonly _tag: "Refused" }

/** The one origin rule, for upgrades and event streams alike. */
export const judgeOrigin = (headers: UpgradeRequest["headers"], policy: UpgradePolicy): OriginVerdict => {
  const origin = single(headers["origin"])?.trim()
  if (origin === undefined) return { _tag: "NoOrigin" }
  if (isSameOrigin(origin.toLowerCase(), single(headers["host"]))) return { _tag: "SameOrigin" }
  const allowed = policy.allowedOrigins?.some((name) => name.toLowerCase() === origin.toLowerCase()) ?? true
  return allowed ? { _tag: "Allowed", origin } : { _tag: "Refused" }
}

export const originRefused = refuse("origin", 403, "Origin not allowed")

/** What the operator configured about who may connect. */
export interface UpgradePolicy {
  /**
   * When set, an `Origin` must be one of these (any case) or the request's host. A request without
   * one is no browser's, which cross-site WebSocket hijacking cannot use, so it passes.
   */
  readonly allowedOrigins?: ReadonlyArray<string> | undefined
}

const missingUpgradeHeader = (headers: UpgradeRequest["headers"]): string | undefined => {
  if (!single(headers["upgrade"])?.trim()) return "Upgrade: websocket"
  const connection = single(headers["connection"])?.split(",").map((token) => token.trim().toLowerCase())
  return connection?.includes("upgrade") ? undefined : "Connection: Upgrade"
}

/**
 * Judges a request that asks (or should have asked) to become a WebSocket. Node raises `upgrade`
 * only for a request with `Upgrade` and `Connection: upgrade`, so only a plain request (the
 * router's fallback) is told that it lacks them.
 */
export const judgeUpgrade = (request: UpgradeRequest, policy: UpgradePolicy = {}): UpgradeVerdict => {
  if (!isAllowedTarget(request.target)) return refuse("path", 404, notAllowedReason)
  if (request.httpVersion !== "1.1") return refuse("http-version", 400, "A WebSocket upgrade needs HTTP/1.1")
  const headers = request.headers
  const badHost = hostProblem(request.httpVersion, headers["host"])
  if (badHost !== undefined) return refuse("host", 400, badHost)
  const missing = missingUpgradeHeader(headers)
  if (missing !== undefined) return refuse("plain", 400, `This path accepts WebSocket upgrades only: send ${missing}`)
  // ws speaks version 8 too, whose browsers send their origin in a header the origin rule does not read.
  if (single(headers["sec-websocket-version"])?.trim() !== "13") {
    return refuse("version", 400, "Unsupported Sec-WebSocket-Version: this server speaks version 13", {
      "Sec-WebSocket-Version": "13"
    })
  }
  return judgeOrigin(headers, policy)._tag === "Refused" ? originRefused : accept
}

/** ws's refusal of a handshake (its `wsClientError`), as ours: key `handshake`, ws's reason. */
export const handshakeRefused = (problem: string) => refuse("handshake", 400, `Invalid WebSocket handshake: ${problem}`)

export const refusal = (verdict: Refusal): RawResponse => ({
  status: verdict.status,
  body: verdict.reason + "\n",
  contentType: verdict.contentType,
  headers: { [refusalHeader]: verdict.key, ...verdict.headers }
})
