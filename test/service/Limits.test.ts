import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { startServer } from "../support/TestServer.js"
import { connect } from "../support/WebSocketClient.js"

describe("connection limits", () => {
  it.scopedLive("does not negotiate permessage-deflate, whatever the client offers", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const { ws } = yield* connect(server.wsUrl("/_ws/"), { perMessageDeflate: true })
      assert.strictEqual(ws.extensions, "")
    }))
})
