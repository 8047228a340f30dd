/** Upgrade requests as the pure judges see them, for the unit tests. */
import type { UpgradeRequest } from "../../src/wire/Handshake.js"

/** A well-formed WebSocket upgrade to `target`, with `headers` added or replaced. */
export const upgradeRequestTo = (target: string, headers: UpgradeRequest["headers"] = {}): UpgradeRequest => ({
  target,
  httpVersion: "1.1",
  headers: {
    host: "localhost",
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-version": "13",
    // RFC 6455's own example key.
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    ...headers
  }
})
