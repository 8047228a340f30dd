/**
 * The live demo at `GET /` for browsers: the latest integer, large; the connection's state
 * (connecting / live / reconnecting in N s); and the last few integers. Its script is
 * src/client/DemoPageScript.ts as the build bundles it for browsers, carried inline; it
 * reconnects by the same `ReconnectPolicy` as the Node client.
 */
import script from "integer-forge:demo-page-script"

// An icon of its own, so that the browser does not ask for /favicon.ico (a 404, and an error in
// the console) on every load.
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
  main { text-align: center; }
  #value { font-size: clamp(4rem, 20vw, 12rem); font-variant-numeric: tabular-nums; line-height: 1; }
  #state { margin-top: 1rem; font-size: 1.1rem; }
  body[data-state="live"] #state { color: #6c6; }
  body[data-state="reconnecting"] #state, body[data-state="connecting"] #state { color: #db3; }
  body[data-state="stopped"] #state { color: #e66; }
  #history { list-style: none; padding: 0; display: flex; gap: .6rem; justify-content: center; color: #888;
             font-variant-numeric: tabular-nums; }
  #notice { margin-top: .6rem; color: #db3; font-size: .95rem; min-height: 1.2em; }
  footer { margin-top: 2rem; color: #777; font-size: .9rem; }
  code { color: #bbb; }
</style>
</head>
<body data-state="connecting">
<main>
  <div id="value">–</div>
  <div id="state">connecting</div>
  <div id="notice" role="status"></div>
  <ol id="history" aria-label="latest integers"></ol>
  <footer>Integers as a service. Try <code>websocat ws://${host}/_ws/</code> too.</footer>
</main>
<script type="module">${script}</script>
</body>
</html>
`
