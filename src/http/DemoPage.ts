/**
 * The live demo at `GET /` for browsers. Its script, inline, is src/client/DemoPageScript.ts as the
 * build bundles it for browsers.
 */
import script from "integer-forge:demo-page-script"
import { tryItCommands } from "./TryIt.js"

// An icon of its own, so that the browser does not ask for /favicon.ico (a 404) on every load.
const icon = "data:image/svg+xml," + encodeURIComponent(
  "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'><rect width='16' height='16' rx='3' fill='#111'/>" +
    "<text x='8' y='12.5' font-size='12' text-anchor='middle' fill='#6c6' font-family='sans-serif'>1</text></svg>"
)

/** The page, with `host` in the command it suggests (a host name the caller has checked). */
export const demoPage = (host: string) =>
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Integer Forge</title>
<link rel="icon" href="${icon}">
<style>
  body { font-family: system-ui, sans-serif; margin: 0; min-height: 100vh; display: grid; place-items: center;
         background: #111; color: #eee; }
  main { text-align: center; padding: 1rem; }
  h1 { margin: 0; font-size: 1.5rem; }
  #about { margin: .4rem 0 2rem; color: #999; }
  #value { font-size: clamp(4rem, 20vw, 12rem); font-variant-numeric: tabular-nums; line-height: 1; }
  /* Until an integer of the current connection arrives, the one shown is out of date. */
  body:not([data-state="live"]) #value { opacity: .35; }
  #state { margin-top: 1rem; font-size: 1.1rem; color: #db3; }
  body[data-state="live"] #state { color: #6c6; }
  body[data-state="stopped"] #state { color: #e66; }
  #stale { margin-top: .3rem; color: #999; font-size: .95rem; min-height: 1.2em; }
  #history { list-style: none; padding: 0; display: flex; gap: .6rem; justify-content: center; color: #888;
             font-variant-numeric: tabular-nums; }
  #notice { margin-top: .6rem; color: #db3; font-size: .95rem; min-height: 1.2em; }
  footer { margin-top: 2rem; color: #777; font-size: .9rem; }
  code { color: #bbb; white-space: nowrap; }
</style>
</head>
<body data-state="connecting">
<main>
  <h1>Integer Forge</h1>
  <p id="about">One shared forge counts 1, 2, 3, … and every visitor receives the same integer at the same moment.</p>
  <div id="value">–</div>
  <div id="state">connecting</div>
  <div id="stale"></div>
  <div id="notice" role="status"></div>
  <ol id="history" aria-label="earlier integers"></ol>
  <footer>From a terminal: ${tryItCommands(host).map((command) => `<code>${command}</code>`).join(", ")}.</footer>
</main>
<script type="module">${script}</script>
</body>
</html>
`
