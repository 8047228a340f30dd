/**
 * The demo page as it ships: served by `npm start` (the bundled dist/main.cjs), in Debian's
 * Chromium. The service is stopped and started again under it, as a deploy does.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { Page } from "playwright-core"
import { browserPage, chromium } from "../support/Browser.js"
import { httpUrl, wsUrl } from "../support/LocalUrls.js"
import { consecutive } from "../support/Sequences.js"
import { restartableService, spawnService, waitForPort } from "../support/ServiceProcess.js"
import { connect } from "../support/WebSocketClient.js"

const valueInPage = "Number(document.getElementById('value').textContent)"
const stateInPage = "document.body.dataset.state"

// Read with one evaluation, so that no integer arrives between the parts.
const shownInPage = `({
  value: document.getElementById('value').textContent,
  history: [...document.querySelectorAll('#history li')].map((item) => Number(item.textContent)),
  stale: document.getElementById('stale')?.textContent ?? null,
  opacity: Number(getComputedStyle(document.getElementById('value')).opacity)
})`

interface Shown {
  readonly value: string
  readonly history: ReadonlyArray<number>
  /** What the page says of the integer it shows while that one is out of date; null: nothing. */
  readonly stale: string | null
  readonly opacity: number
}

/** A state the page showed, with the integer shown with it. */
interface Moment {
  readonly state: string | undefined
  readonly text: string
  readonly value: string
}

// Recorded in the page from its first moment, as the page changes: a state that lasts a few
// milliseconds (the forge here runs every 50 ms) is one that polling could miss.
const recordMoments = `
  window.moments = [];
  new MutationObserver(() => {
    const text = (id) => document.getElementById(id)?.textContent ?? "";
    const now = { state: document.body?.dataset.state, text: text("state"), value: text("value") };
    const before = window.moments.at(-1);
    if (before?.state !== now.state || before?.value !== now.value) window.moments.push(now);
  }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
`

const inPage = (page: Page) => ({
  // Browser-side conditions are expressions: they run in the page, not in Node.
  waitFor: (expression: string, timeout = 15_000) =>
    Effect.promise(() => page.waitForFunction(expression, undefined, { timeout })),
  value: () => Effect.promise(() => page.locator("#value").textContent()).pipe(Effect.map(Number)),
  state: () => Effect.promise(() => page.locator("#state").textContent()),
  notice: () => Effect.promise(() => page.locator("#notice").textContent()),
  shown: () => Effect.promise(() => page.evaluate(shownInPage) as Promise<Shown>),
  moments: () => Effect.promise(() => page.evaluate("window.moments") as Promise<Array<Moment>>)
})

// The page's history line holds the integers right before the one shown, the latest first, at
// most 12: not the one shown again, and none of an earlier sequence.
const assertHistory = ({ history, value }: Shown) =>
  assert.isTrue(
    history.length >= 1 && history.length <= 12 && consecutive([...history].reverse().concat(Number(value))),
    `history ${JSON.stringify(history)} before ${value}`
  )

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
    "says what it shows and names commands that work after npm install; live only once an integer arrives; 'reconnecting' within about a second of a stop, the last integer dimmed and dated; live again after a start, with a restart notice that goes after a while; a history of the integers before the current one; no page error while the service is up",
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
        const { moments, notice, shown, state, value, waitFor } = inPage(page)
        yield* Effect.promise(() => page.addInitScript(recordMoments))
        const loadedAt = Date.now()
        yield* Effect.promise(() => page.goto(httpUrl(service.port, "/")))

        const heading = yield* Effect.promise(() =>
          page.evaluate("[document.querySelector('h1')?.textContent, document.querySelector('h1 + p')?.textContent]")
        )
        assert.deepStrictEqual(heading, [
          "Integer Forge",
          "One shared forge counts 1, 2, 3, … and every visitor receives the same integer at the same moment."
        ])
        // First the commands that work right after `npm install`; websocat, which neither npm nor
        // Debian has, last.
        const host = `127.0.0.1:${service.port}`
        const commands = yield* Effect.promise(() =>
          page.evaluate("[...document.querySelectorAll('footer code')].map((code) => code.textContent)")
        )
        assert.deepStrictEqual(commands, [
          `curl -N -H 'Accept: text/event-stream' http://${host}/_ws/`,
          `npx wscat -c ws://${host}/_ws/`,
          `websocat ws://${host}/_ws/`
        ])

        yield* waitFor(`${valueInPage} >= 3`)
        const a = yield* value()
        yield* waitFor(`${valueInPage} > ${a}`)
        assert.strictEqual(yield* state(), "live")
        const live = yield* shown()
        assertHistory(live)
        assert.deepStrictEqual([live.stale, live.opacity], ["", 1])

        const stoppedAt = Date.now()
        const stopping = yield* Effect.fork(service.stop)
        yield* waitFor(`${stateInPage} !== "live"`, 5_000)
        const noticedMs = Date.now() - stoppedAt
        assert.isBelow(noticedMs, 1_500, "the page says it lost the service within about a second")
        assert.match((yield* state()) ?? "", /^(reconnecting in \d+\.\d s|connecting)$/)
        yield* stopping.await
        const lastSeen = yield* value()
        assert.strictEqual(yield* notice(), "")
        const reconnecting = yield* shown()
        assert.isBelow(reconnecting.opacity, 0.5, "the last integer is dimmed")
        assert.match(reconnecting.stale ?? "", new RegExp(`^last integer ${lastSeen} at \\d{1,2}:\\d{2}:\\d{2}\\b`))

        yield* service.restart
        // Another client keeps the new sequence going while the page is away.
        yield* connect(wsUrl(service.port, "/_ws/"))
        yield* waitFor(`${stateInPage} === "live"`)
        const liveAgainAt = Date.now()
        const before = yield* value()
        yield* waitFor(`${valueInPage} !== ${before}`)
        assert.strictEqual(yield* state(), "live")
        // The new instance counts from 1 again: the page says so rather than hiding it.
        yield* waitFor(`document.getElementById('notice').textContent !== ""`)
        const toldAt = Date.now()
        assert.strictEqual(
          yield* notice(),
          `The service restarted its sequence after ${lastSeen}: the new one follows from its first integer.`
        )
        yield* waitFor(`${valueInPage} >= 5`)
        const liveAgain = yield* shown()
        assertHistory(liveAgain)
        assert.deepStrictEqual([liveAgain.stale, liveAgain.opacity], ["", 1])

        // Each time the page went live, it was with an integer of the new connection in view.
        const seen = yield* moments()
        const wentLive = seen.flatMap((moment, i) =>
          moment.state === "live" && seen[i - 1]?.state !== "live" ? [i] : []
        )
        assert.isAtLeast(wentLive.length, 2, JSON.stringify(seen))
        for (const i of wentLive) assert.notStrictEqual(seen[i]!.value, seen[i - 1]!.value, JSON.stringify(seen))
        // After the restart, every integer of the new sequence from its first, though it ran before.
        const values = seen.slice(seen.findIndex(({ state }) => state === "reconnecting")).map(({ value }) => value)
          .filter((value, i, all) => value !== all[i - 1]).slice(1).map(Number)
        assert.strictEqual(values[0], 1, values.join(","))
        assert.isTrue(consecutive(values), values.join(","))
        const waiting = new Set(seen.filter(({ state }) => state === "connected").map(({ text }) => text))
        assert.deepStrictEqual([...waiting], ["connected, waiting for the first integer"])

        // The notice stays long enough to read, then goes.
        yield* waitFor(`document.getElementById('notice').textContent === ""`, 30_000)
        assert.isAtLeast(Date.now() - toldAt, 5_000)
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
    "EventSource receives the integers as events, and after a restart reconnects by itself, from the new sequence's first integer",
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
            source.onmessage = (event) => { window.seen.push([event.lastEventId, Number(event.data)]); };
          `)
        )
        yield* waitFor("window.seen.length >= 5")
        const seen = (yield* Effect.promise(() => page.evaluate("window.seen"))) as Array<[string, number]>
        assert.isTrue(consecutive(seen.map(([, n]) => n)), JSON.stringify(seen))
        for (const [id, n] of seen) {
          assert.match(id, new RegExp(`^[\\w-]+\\.${n}$`), "each event's id: its sequence and integer")
        }
        yield* service.stop
        const before = (yield* Effect.promise(() => page.evaluate("window.seen.length"))) as number
        yield* service.restart
        // Another client keeps the new sequence going while EventSource waits out its retry.
        yield* connect(wsUrl(service.port, "/_ws/"))
        yield* waitFor("window.opens >= 2")
        yield* waitFor(`window.seen.length >= ${before + 3}`)
        const after = ((yield* Effect.promise(() => page.evaluate("window.seen"))) as Array<[string, number]>)
          .slice(before).map(([, n]) => n)
        assert.strictEqual(after[0], 1, `from the new sequence's first integer: ${after.join(",")}`)
        assert.isTrue(consecutive(after), after.join(","))
      }),
    60_000
  )
})
