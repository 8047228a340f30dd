import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { browserPage, chromium } from "../support/Browser.js"
import { restartableServer } from "../support/RestartableServer.js"
import { consecutive } from "../support/Sequences.js"

describe("the live demo page", () => {
  it.scopedLive.skipIf(chromium.skip)(
    "shows rising integers, then 'reconnecting' when the server restarts, then live integers again",
    () =>
      Effect.gen(function*() {
        const server = yield* restartableServer({ intervalMs: 50 })
        const page = yield* browserPage
        yield* Effect.promise(() => page.goto(server.url("/")))
        // Browser-side conditions are expressions: they run in the page, not in Node.
        const valueInPage = "Number(document.getElementById('value').textContent)"
        const stateInPage = "document.body.dataset.state"
        const waitFor = (expression: string) =>
          Effect.promise(() => page.waitForFunction(expression, undefined, { timeout: 15_000 }))
        const value = () => Effect.promise(() => page.locator("#value").textContent()).pipe(Effect.map(Number))
        const state = () => Effect.promise(() => page.locator("#state").textContent())

        yield* waitFor(`${valueInPage} >= 3`)
        const a = yield* value()
        yield* waitFor(`${valueInPage} > ${a}`)
        assert.isAbove(yield* value(), a, "the integer rises")
        assert.strictEqual(yield* state(), "live")
        const history = yield* Effect.promise(() => page.locator("#history li").allTextContents())
        assert.isAtLeast(history.length, 2)

        yield* server.stop
        yield* waitFor(`${stateInPage} !== "live"`)
        assert.match((yield* state()) ?? "", /^(reconnecting in \d+\.\d s|connecting)$/)

        const lastSeen = yield* value()
        assert.strictEqual(yield* Effect.promise(() => page.locator("#notice").textContent()), "")
        yield* server.restart
        yield* waitFor(`${stateInPage} === "live"`)
        const before = yield* value()
        yield* waitFor(`${valueInPage} !== ${before}`)
        assert.strictEqual(yield* state(), "live")
        // The new instance counts from 1 again: the page says so rather than hiding it.
        yield* waitFor(`document.getElementById('notice').textContent !== ""`)
        assert.strictEqual(
          yield* Effect.promise(() => page.locator("#notice").textContent()),
          `The sequence restarted: integers after ${lastSeen} cannot be replayed.`
        )
      }),
    60_000
  )

  it.scopedLive.skipIf(chromium.skip)(
    "goes live with ALLOWED_ORIGINS set to other sites: the service's own page is same-origin",
    () =>
      Effect.gen(function*() {
        const server = yield* restartableServer({ intervalMs: 50, allowedOrigins: ["https://elsewhere.example"] })
        const page = yield* browserPage
        yield* Effect.promise(() => page.goto(server.url("/")))
        yield* Effect.promise(() =>
          page.waitForFunction("Number(document.getElementById('value').textContent) >= 2", undefined, {
            timeout: 15_000
          })
        )
        assert.strictEqual(yield* Effect.promise(() => page.locator("#state").textContent()), "live")
      }),
    60_000
  )

  it.scopedLive.skipIf(chromium.skip)(
    "EventSource receives the integers as events, and after a restart reconnects by itself",
    () =>
      Effect.gen(function*() {
        const server = yield* restartableServer({ intervalMs: 50 })
        const page = yield* browserPage
        yield* Effect.promise(() => page.goto(server.url("/")))
        const waitFor = (expression: string) =>
          Effect.promise(() => page.waitForFunction(expression, undefined, { timeout: 15_000 }))
        // Runs in the page: the browser's own EventSource, on the same origin.
        yield* Effect.promise(() =>
          page.evaluate(`
            window.seen = []; window.opens = 0;
            const source = new EventSource("/_ws/events");
            source.onopen = () => { window.opens++; };
            source.onmessage = (event) => { window.seen.push([Number(event.lastEventId), Number(event.data)]); };
          `)
        )
        yield* waitFor("window.seen.length >= 5")
        const seen = (yield* Effect.promise(() => page.evaluate("window.seen"))) as Array<[number, number]>
        assert.isTrue(consecutive(seen.map(([, n]) => n)), JSON.stringify(seen))
        for (const [id, n] of seen) assert.strictEqual(id, n, "each event's id is its integer")
        yield* server.stop
        yield* server.restart
        yield* waitFor("window.opens >= 2")
        const before = (yield* Effect.promise(() => page.evaluate("window.seen.length"))) as number
        yield* waitFor(`window.seen.length >= ${before + 3}`)
      }),
    60_000
  )
})
