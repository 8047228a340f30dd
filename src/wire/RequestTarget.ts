/**
 * Which request targets may become WebSockets: the service's front door, as the platform routes
 * WebSockets only under these prefixes and leaves the application to enforce them. The rule is
 * deliberately strict (docs/architecture.md): paths are compared as sent, without decoding, and a
 * dot segment is refused, so that an allowed path means the same to every proxy and framework.
 */

/** The path prefixes the platform routes as WebSockets. */
export const allowedPrefixes = ["/_ws/", "/socket.io/"] as const

const absoluteForm = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/

/** The path of a request target, or undefined for asterisk-form, authority-form, empty or garbage. */
export const requestPath = (target: string): string | undefined => {
  let rest = target
  if (!rest.startsWith("/")) {
    const authority = absoluteForm.exec(rest)
    if (authority === null) return undefined
    rest = rest.slice(authority[0].length)
    if (rest === "" || rest.startsWith("?") || rest.startsWith("#")) rest = "/" + rest
  }
  const end = rest.search(/[?#]/)
  return end === -1 ? rest : rest.slice(0, end)
}

/** The query of a request target (after `?`, before any `#`), parsed; empty when there is none. */
export const queryOf = (target: string): URLSearchParams => {
  const queryStart = target.indexOf("?")
  return new URLSearchParams(queryStart === -1 ? "" : target.slice(queryStart + 1).split("#")[0])
}

const isDotSegment = (segment: string): boolean => {
  const decodedDots = segment.replace(/%2e/gi, ".")
  return decodedDots === "." || decodedDots === ".."
}

/** Whether a path (no query) may be upgraded to a WebSocket. */
export const isAllowedPath = (path: string): boolean =>
  allowedPrefixes.some((prefix) => path.startsWith(prefix)) && !path.split("/").some(isDotSegment)

/** Whether a raw request target (path and query) may be upgraded to a WebSocket. */
export const isAllowedTarget = (target: string): boolean => {
  const path = requestPath(target)
  return path !== undefined && isAllowedPath(path)
}
