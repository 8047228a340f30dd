/**
 * The fan-out writes each integer's frame, built once, straight to the TCP socket under ws's
 * `WebSocket` (its private `_socket`). ws is pinned to one version for it; this test is what says
 * so when an upgrade of ws moves the field, instead of the fan-out quietly taking the slower path.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { createRequire } from "node:module"
import * as Net from "node:net"
import { ensure, eventually } from "../support/Eventually.js"
import { consecutive } from "../support/Sequences.js"
import { startServer } from "../support/TestServer.js"
import { connect } from "../support/WebSocketClient.js"

describe("the fan-out's direct frame path", () => {
  it.scopedLive("an accepted WebSocket has its TCP socket where the fan-out writes, and clients read whole frames", () =>
    Effect.gen(function*() {
      const pinned = createRequire(import.meta.url)("../../package.json").dependencies["ws"]
      assert.match(pinned, /^\d+\.\d+\.\d+$/, "ws is pinned to one exact version")
      assert.strictEqual(createRequire(import.meta.url)("ws/package.json").version, pinned)
      const server = yield* startServer({ intervalMs: 10 })
      const client = yield* connect(server.wsUrl("/_ws/"))
      yield* eventually(ensure(() => client.received.length >= 20, "integers"))
      const [accepted] = [...server.openSockets]
      assert.instanceOf((accepted as unknown as { _socket: unknown })._socket, Net.Socket)
      assert.isTrue(consecutive(client.received), client.received.join(","))
      assert.isFalse(client.sawBinary())
    }))
})
