/**
 * Which request targets may become WebSockets. The platform routes WebSocket traffic only for
 * paths that start with `/_ws/` or `/socket.io/`, and leaves it to the application to enforce
 * that, so this rule is the service's front door.
 *
 * The rule, deliberately strict and documented in docs/architecture.md:
 * - The path is the request target up to the first `?` or `#`; the query is ignored. An
 *   absolute-form target (`http://host/_ws/`) is judged by its path; any other form
 *   (`*`, `host:port`) is never allowed.
 * - The path is compared as sent, byte for byte and case-sensitively, with no percent-decoding:
 *   `/%5Fws/` is not `/_ws/`, just as the platform's router does not treat it as one.
 * - A path with a dot segment (`.` or `..`, also written `%2e`) is refused, even when it would
 *   normalise to somewhere inside the prefix: `/_ws/../admin` means `/admin` to any proxy or
 *   framework that normalises, and an allowed path must mean the same thing to all of them.
 */

/** The path prefixes the platform routes as WebSockets. */
export const allowedPrefixes = ["/_ws/", "/socket.io/"] as const

const absoluteForm = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/

/**
 * The path of an HTTP request target, or undefined when the target has no path we accept
 * (asterisk-form, authority-form, empty, garbage).
 */
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
