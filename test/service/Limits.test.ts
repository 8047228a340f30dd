import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { WebSocket } from "ws"
import { startServer } from "../support/TestServer.js"

describe("connection limits", () => {
  it.live("does not negotiate permessage-deflate, whatever the client offers", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const ws = yield* Effect.acquireRelease(
        Effect.async<WebSocket, Error>((resume) => {
          const ws = new WebSocket(server.wsUrl("/_ws/"), { perMessageDeflate: true })
          ws.on("open", () => resume(Effect.succeed(ws)))
          ws.on("error", (e) => resume(Effect.fail(e)))
        }),
        (ws) => Effect.sync(() => ws.terminate())
      )
      assert.strictEqual(ws.extensions, "")
    }).pipe(Effect.scoped))
})
