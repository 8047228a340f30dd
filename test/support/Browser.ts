/**
 * A real headless Chromium (Debian's `chromium` package) driven by playwright-core, for the demo
 * page's tests.
 */
import { Effect } from "effect"
import { chromium as playwright, type Page } from "playwright-core"
import { dependency } from "./Dependency.js"

export const chromium = dependency(
  "browser tests",
  [process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium"],
  "Chromium is missing: install it with `apt-get install -y chromium` (or set CHROMIUM_PATH)"
)

/** A fresh page in a fresh headless browser, closed with the scope. */
export const browserPage = Effect.gen(function*() {
  const executablePath = yield* chromium.required
  const browser = yield* Effect.acquireRelease(
    Effect.promise(() =>
      playwright.launch({
        executablePath,
        headless: true,
        // As root in a sandbox with no network: no sandboxing, and none of the background
        // connections Chromium would make to Google's hosts.
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync"
        ]
      })
    ),
    (browser) => Effect.promise(() => browser.close())
  )
  return yield* Effect.promise((): Promise<Page> => browser.newPage())
})
