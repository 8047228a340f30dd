/**
 * The address a connection came from, for the logs. Behind the platform's proxies the TCP peer
 * is a proxy; the client is named in `X-Forwarded-For`, which every proxy appends to. Only the
 * entries added by proxies we trust mean anything (a client can send any header it likes), so
 * with `TRUST_PROXY_HOPS=n` the client is the n-th entry from the right, and with 0 (the
 * default) the header is ignored.
 */

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
