/**
 * Where the shared forge finds Redis: a URL (`REDIS_URL`), the primary that Sentinel names
 * (`REDIS_SENTINELS`, `REDIS_SENTINEL_MASTER`), or the host, port and password that WordPress VIP
 * hands a Node.js app (`VIP_REDIS_PRIMARY`, `VIP_REDIS_PASSWORD`). Pure: parsing and describing,
 * no connection.
 */
import { Redacted } from "effect"
import { isIPv4, isIPv6 } from "node:net"
import { parseWholeNumber } from "../wire/WholeNumber.js"

export type RedisEndpoint =
  | { readonly _tag: "Url"; readonly url: string }
  | {
    readonly _tag: "HostPort"
    readonly host: string
    readonly port: number
    /** Empty: no AUTH. VIP gives no user name, so a password is the default user's. */
    readonly password: Redacted.Redacted<string>
  }
  | {
    readonly _tag: "Sentinel"
    readonly sentinels: ReadonlyArray<HostPort>
    /** The name the sentinels monitor the primary under. */
    readonly master: string
    /** The primary's (and its replicas') password; empty: no AUTH. */
    readonly password: Redacted.Redacted<string>
    /** The sentinels' own password; empty: no AUTH. */
    readonly sentinelPassword: Redacted.Redacted<string>
  }

export interface HostPort {
  readonly host: string
  readonly port: number
}

// RFC 1123 labels; a name of digits and dots only must be a valid IPv4 address instead.
const hostName = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i

/**
 * `host:port`, with an IPv6 address in brackets (`[::1]:6379`) as in a URL, and a port from 1 to
 * 65535 in plain decimal digits. Undefined for anything else.
 */
export const parseHostPort = (text: string): HostPort | undefined => {
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(text)
  if (match === null) return undefined
  const [, ipv6, name, portText] = match
  const port = parseWholeNumber(portText!)
  if (port === undefined || port < 1 || port > 65535) return undefined
  if (ipv6 !== undefined) return isIPv6(ipv6) ? { host: ipv6, port } : undefined
  const valid = /^[\d.]+$/.test(name!) ? isIPv4(name!) : hostName.test(name!)
  return valid ? { host: name!, port } : undefined
}

/** Comma-separated `host:port`s, at least one, no address twice; undefined for anything else. */
export const parseHostPorts = (text: string): ReadonlyArray<HostPort> | undefined => {
  const all = text.split(",").map((part) => parseHostPort(part.trim()))
  if (all.some((address) => address === undefined)) return undefined
  const unique = new Set(all.map((address) => formatHostPort(address!.host, address!.port)))
  return unique.size === all.length ? all as Array<HostPort> : undefined
}

/** `host:port` as `parseHostPort` reads it back. */
export const formatHostPort = (host: string, port: number): string =>
  isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`

const parsedUrl = (url: string) => URL.canParse(url) ? new URL(url) : undefined

/** What the log may say about an endpoint: where it is, never a password. */
export const describeEndpoint = (endpoint: RedisEndpoint): { readonly redis: string; readonly from: string } => {
  if (endpoint._tag === "HostPort") return { redis: endpointAddress(endpoint), from: "VIP_REDIS_PRIMARY" }
  if (endpoint._tag === "Sentinel") return { redis: endpointAddress(endpoint), from: "REDIS_SENTINELS" }
  const parsed = parsedUrl(endpoint.url)
  if (parsed === undefined) return { redis: "(unparseable URL)", from: "REDIS_URL" }
  parsed.username = ""
  parsed.password = ""
  return { redis: parsed.href, from: "REDIS_URL" }
}

/**
 * `host:port` of where the client connects: a URL without a port means 6379, as ioredis reads it;
 * with Sentinel, the master's name and the sentinels that say where the primary is.
 */
export const endpointAddress = (endpoint: RedisEndpoint): string => {
  if (endpoint._tag === "HostPort") return formatHostPort(endpoint.host, endpoint.port)
  if (endpoint._tag === "Sentinel") {
    return `${endpoint.master} via Sentinel ${endpoint.sentinels.map((s) => formatHostPort(s.host, s.port)).join(",")}`
  }
  const parsed = parsedUrl(endpoint.url)
  if (parsed === undefined) return "(unparseable URL)"
  return formatHostPort(parsed.hostname.replace(/^\[|\]$/g, ""), parsed.port === "" ? 6379 : Number(parsed.port))
}

/** What a log line must never hold: the password as configured and as sent (a URL's is percent-encoded). */
export const endpointSecrets = (endpoint: RedisEndpoint): ReadonlyArray<string> => {
  if (endpoint._tag === "HostPort") return [Redacted.value(endpoint.password)].filter((secret) => secret !== "")
  if (endpoint._tag === "Sentinel") {
    return [endpoint.password, endpoint.sentinelPassword].map(Redacted.value).filter((secret) => secret !== "")
  }
  const password = parsedUrl(endpoint.url)?.password ?? ""
  return [...new Set([password, decoded(password)])].filter((secret) => secret !== "")
}

const decoded = (text: string): string => {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}
