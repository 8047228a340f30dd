/**
 * The address a connection came from, for the logs. Every proxy appends to `X-Forwarded-For`, and
 * a client can send any header it likes: with `TRUST_PROXY_HOPS=n` the client is the n-th entry
 * from the right, and with 0 the header is ignored.
 */
import type { IncomingMessage } from "node:http"

export const clientAddress = (
  peer: string | undefined,
  forwardedFor: string | ReadonlyArray<string> | undefined,
  trustedHops: number
): string => {
  const direct = peer ?? "unknown"
  if (trustedHops <= 0 || forwardedFor === undefined) return direct
  const hops = (typeof forwardedFor === "string" ? forwardedFor : forwardedFor.join(","))
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
  // The last `trustedHops` entries were written by our proxies; the one before the first of
  // them is what the outermost trusted proxy saw connecting to it.
  const index = hops.length - trustedHops
  return index >= 0 ? hops[index]! : hops[0] ?? direct
}

/** The client of a request, by `clientAddress`. */
export const remoteOf = (request: IncomingMessage, trustedHops: number): string =>
  clientAddress(request.socket.remoteAddress, request.headers["x-forwarded-for"], trustedHops)
