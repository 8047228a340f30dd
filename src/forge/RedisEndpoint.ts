/**
 * Where the shared forge finds Redis: a URL (`REDIS_URL`), or the host, port and password that
 * WordPress VIP hands a Node.js app (`VIP_REDIS_PRIMARY`, `VIP_REDIS_PASSWORD`). Pure: parsing
 * and describing, no connection.
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

// RFC 1123 labels; a name of digits and dots only must be a valid IPv4 address instead.
const hostName = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i

/**
 * `host:port`, with an IPv6 address in brackets (`[::1]:6379`) as in a URL, and a port from 1 to
 * 65535 in plain decimal digits. Undefined for anything else.
 */
export const parseHostPort = (text: string): { readonly host: string; readonly port: number } | undefined => {
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(text)
  if (match === null) return undefined
  const [, ipv6, name, portText] = match
  const port = parseWholeNumber(portText!)
  if (port === undefined || port < 1 || port > 65535) return undefined
  if (ipv6 !== undefined) return isIPv6(ipv6) ? { host: ipv6, port } : undefined
  const valid = /^[\d.]+$/.test(name!) ? isIPv4(name!) : hostName.test(name!)
  return valid ? { host: name!, port } : undefined
}

/** `host:port` as `parseHostPort` reads it back. */
export const formatHostPort = (host: string, port: number): string =>
  isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`

const parsedUrl = (url: string) => URL.canParse(url) ? new URL(url) : undefined

/** What the log may say about an endpoint: where it is, never a password. */
export const describeEndpoint = (endpoint: RedisEndpoint): { readonly redis: string; readonly from: string } => {
  if (endpoint._tag === "HostPort") return { redis: endpointAddress(endpoint), from: "VIP_REDIS_PRIMARY" }
  const parsed = parsedUrl(endpoint.url)
  if (parsed === undefined) return { redis: "(unparseable URL)", from: "REDIS_URL" }
  parsed.username = ""
  parsed.password = ""
  return { redis: parsed.href, from: "REDIS_URL" }
}

/** `host:port` of where the client connects: a URL without a port means 6379, as ioredis reads it. */
export const endpointAddress = (endpoint: RedisEndpoint): string => {
  if (endpoint._tag === "HostPort") return formatHostPort(endpoint.host, endpoint.port)
  const parsed = parsedUrl(endpoint.url)
  if (parsed === undefined) return "(unparseable URL)"
  return formatHostPort(parsed.hostname.replace(/^\[|\]$/g, ""), parsed.port === "" ? 6379 : Number(parsed.port))
}

/** What a log line must never hold: the password as configured and as sent (a URL's is percent-encoded). */
export const endpointSecrets = (endpoint: RedisEndpoint): ReadonlyArray<string> => {
  if (endpoint._tag === "HostPort") return [Redacted.value(endpoint.password)].filter((secret) => secret !== "")
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
