/**
 * A real headless Chromium (Debian's `chromium` package) driven by playwright-core, for the demo
 * page's tests. Missing Chromium skips those tests locally with a message saying how to install
 * it; under CI=true it is a failure, because .ci/run installs it.
 */
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { chromium as playwright, type Page } from "playwright-core"

export const chromiumPath = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium"
export const chromiumMissing = !existsSync(chromiumPath)
export const installHint = "Chromium is missing: install it with `apt-get install -y chromium` (or set CHROMIUM_PATH)"

if (chromiumMissing && process.env["CI"] !== "true") console.warn(`Skipping browser tests. ${installHint}`)

/** A fresh page in a fresh headless browser, closed with the scope. */
export const browserPage = Effect.gen(function*() {
  if (chromiumMissing) return yield* Effect.die(new Error(installHint))
  const browser = yield* Effect.acquireRelease(
    Effect.promise(() =>
      playwright.launch({
        executablePath: chromiumPath,
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
