/**
 * The demo page as it ships: served by `npm start` (the bundled dist/main.js), in Debian's
 * Chromium. The service is stopped and started again under it, as a deploy does.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { Page } from "playwright-core"
import { browserPage, chromium } from "../support/Browser.js"
import { httpUrl } from "../support/LocalUrls.js"
import { consecutive } from "../support/Sequences.js"
import { restartableService, spawnService, waitForPort } from "../support/ServiceProcess.js"

const valueInPage = "Number(document.getElementById('value').textContent)"
const stateInPage = "document.body.dataset.state"

const inPage = (page: Page) => ({
  // Browser-side conditions are expressions: they run in the page, not in Node.
  waitFor: (expression: string, timeout = 15_000) =>
    Effect.promise(() => page.waitForFunction(expression, undefined, { timeout })),
  value: () => Effect.promise(() => page.locator("#value").textContent()).pipe(Effect.map(Number)),
  state: () => Effect.promise(() => page.locator("#state").textContent()),
  notice: () => Effect.promise(() => page.locator("#notice").textContent())
})

/** Errors the page reports (uncaught exceptions, console errors), with when they came. */
const pageErrors = (page: Page) => {
  const errors: Array<{ readonly at: number; readonly text: string }> = []
  page.on("pageerror", (error) => errors.push({ at: Date.now(), text: `pageerror: ${error.message}` }))
  page.on("console", (message) => {
    if (message.type() === "error") errors.push({ at: Date.now(), text: `console: ${message.text()}` })
  })
  return errors
}

describe("the live demo page, as npm start serves it", () => {
  it.scopedLive.skipIf(chromium.skip)(
    "live; says 'reconnecting' within about a second of a stop; live again with new integers after a start; no page error while the service is up",
    () =>
      Effect.gen(function*() {
        // No notice: the test times the page's reaction to the close, not the proxies' grace.
        const service = yield* restartableService({
          FORGE_INTERVAL_MS: "50",
          SHUTDOWN_NOTICE_MS: "0",
          SHUTDOWN_SPREAD_MS: "300"
        })
        const page = yield* browserPage
        const errors = pageErrors(page)
        const { notice, state, value, waitFor } = inPage(page)
        const loadedAt = Date.now()
        yield* Effect.promise(() => page.goto(httpUrl(service.port, "/")))

        yield* waitFor(`${valueInPage} >= 3`)
        const a = yield* value()
        yield* waitFor(`${valueInPage} > ${a}`)
        assert.strictEqual(yield* state(), "live")
        const history = yield* Effect.promise(() => page.locator("#history li").allTextContents())
        assert.isAtLeast(history.length, 2)

        const stoppedAt = Date.now()
        const stopping = yield* Effect.fork(service.stop)
        yield* waitFor(`${stateInPage} !== "live"`, 5_000)
        const noticedMs = Date.now() - stoppedAt
        assert.isBelow(noticedMs, 1_500, "the page says it lost the service within about a second")
        assert.match((yield* state()) ?? "", /^(reconnecting in \d+\.\d s|connecting)$/)
        yield* stopping.await
        const lastSeen = yield* value()
        assert.strictEqual(yield* notice(), "")

        yield* service.restart
        yield* waitFor(`${stateInPage} === "live"`)
        const liveAgainAt = Date.now()
        const before = yield* value()
        yield* waitFor(`${valueInPage} !== ${before}`)
        assert.strictEqual(yield* state(), "live")
        // The new instance counts from 1 again: the page says so rather than hiding it.
        yield* waitFor(`document.getElementById('notice').textContent !== ""`)
        assert.strictEqual(
          yield* notice(),
          `The sequence restarted: integers after ${lastSeen} cannot be replayed.`
        )
        yield* waitFor(`${valueInPage} >= 5`)
        // While the service is down, Chromium logs each refused connection: that is expected.
        const whileUp = errors.filter(({ at }) => (at >= loadedAt && at < stoppedAt) || at >= liveAgainAt)
        assert.deepStrictEqual(whileUp.map(({ text }) => text), [])
        console.log(`shipped demo page: 'reconnecting' ${noticedMs} ms after SIGTERM; live again after the restart`)
      }),
    60_000
  )

  it.scopedLive.skipIf(chromium.skip)(
    "goes live with ALLOWED_ORIGINS set to other sites: the service's own page is same-origin",
    () =>
      Effect.gen(function*() {
        const service = yield* spawnService({
          PORT: "0",
          HOST: "127.0.0.1",
          FORGE_INTERVAL_MS: "50",
          ALLOWED_ORIGINS: "https://elsewhere.example"
        })
        const port = yield* waitForPort(service)
        const page = yield* browserPage
        const errors = pageErrors(page)
        yield* Effect.promise(() => page.goto(httpUrl(port, "/")))
        yield* inPage(page).waitFor(`${valueInPage} >= 2`)
        assert.strictEqual(yield* inPage(page).state(), "live")
        assert.deepStrictEqual(errors.map(({ text }) => text), [])
      }),
    60_000
  )

  it.scopedLive.skipIf(chromium.skip)(
    "EventSource receives the integers as events, and after a restart reconnects by itself",
    () =>
      Effect.gen(function*() {
        const service = yield* restartableService({ FORGE_INTERVAL_MS: "50", SHUTDOWN_SPREAD_MS: "0" })
        const page = yield* browserPage
        yield* Effect.promise(() => page.goto(httpUrl(service.port, "/")))
        const { waitFor } = inPage(page)
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
        yield* service.stop
        yield* service.restart
        yield* waitFor("window.opens >= 2")
        const before = (yield* Effect.promise(() => page.evaluate("window.seen.length"))) as number
        yield* waitFor(`window.seen.length >= ${before + 3}`)
      }),
    60_000
  )
})
