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
      const page = yield* Effect.promise(() => html.text())
      assert.include(page, "/_ws/demo")
      // The script is carried inline: one element, ended once, at its end.
      assert.lengthOf(page.match(/<\/script/g) ?? [], 1)
      // First the commands that work right after `npm install`; websocat, which neither npm nor
      // Debian has, last.
      const host = `127.0.0.1:${server.port}`
      const commands = [...page.matchAll(/<code>([^<]*)<\/code>/g)].map((m) => m[1])
      assert.deepStrictEqual(commands, [
        `curl -N -H 'Accept: text/event-stream' http://${host}/_ws/`,
        `npx wscat -c ws://${host}/_ws/`,
        `websocat ws://${host}/_ws/`
      ])
      // An icon of its own: the browser does not ask for /favicon.ico, which would be a 404.
      assert.match(page, /<link rel="icon" href="data:image\/svg\+xml,/)
    }))
})
