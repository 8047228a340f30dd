import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { startServer } from "../support/TestServer.js"

describe("the live demo page", () => {
  it.scopedLive("curl still gets the text; a browser gets the page", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const text = yield* Effect.promise(() => fetch(server.url("/")))
      assert.match(text.headers.get("content-type") ?? "", /^text\/plain/)
      const html = yield* Effect.promise(() => fetch(server.url("/"), { headers: { accept: "text/html" } }))
      assert.match(html.headers.get("content-type") ?? "", /^text\/html/)
      assert.include(yield* Effect.promise(() => html.text()), "/_ws/demo")
    }))
})
