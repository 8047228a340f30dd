/**
 * The live demo at `GET /` for browsers: the latest integer, large; the connection's state
 * (connecting / live / reconnecting in N s); and the last few integers. It connects to the same
 * origin's `/_ws/demo` (wss: on an https: page), resumes with `?since=`, and reconnects by the
 * very functions of `ReconnectPolicy` that the Node client uses: their source is written into
 * the page, so the two cannot drift apart.
 */
import {
  attemptAfter,
  backoffCeiling,
  backoffDelay,
  closeRules,
  defaultPolicy,
  verdictForClose
} from "../client/ReconnectPolicy.js"

const policySource = [
  `const defaultPolicy = ${JSON.stringify(defaultPolicy)};`,
  `const closeRules = ${JSON.stringify(closeRules)};`,
  `const verdictForClose = ${verdictForClose.toString()};`,
  `const backoffCeiling = ${backoffCeiling.toString()};`,
  `const backoffDelay = ${backoffDelay.toString()};`,
  `const attemptAfter = ${attemptAfter.toString()};`
].join("\n")

const script = `
${policySource}
const url = (since) => {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return scheme + "//" + location.host + "/_ws/demo" + (since === undefined ? "" : "?since=" + since);
};
const $ = (id) => document.getElementById(id);
let last, attempt = 0, countdown;
const show = (state, text) => {
  document.body.dataset.state = state;
  $("state").textContent = text;
};
const connect = () => {
  show("connecting", "connecting");
  const ws = new WebSocket(url(last));
  let delivered = false;
  // A browser cannot read the handshake's headers; an integer at or below the one it resumed
  // after is how the page learns that the service's sequence started over.
  let resumedAfter = last;
  ws.onopen = () => show("live", "live");
  ws.onmessage = (event) => {
    const n = Number(event.data);
    if (!Number.isInteger(n)) return;
    delivered = true;
    if (resumedAfter !== undefined && n <= resumedAfter) {
      $("notice").textContent = "The sequence restarted: integers after " + resumedAfter + " cannot be replayed.";
      $("history").replaceChildren();
    }
    resumedAfter = undefined;
    last = n;
    $("value").textContent = String(n);
    const item = document.createElement("li");
    item.textContent = String(n);
    $("history").prepend(item);
    while ($("history").children.length > 12) $("history").lastChild.remove();
  };
  ws.onclose = (event) => {
    if (verdictForClose(event.code) === "stop") {
      return show("stopped", "closed by the server (" + event.code + "); reload to retry");
    }
    attempt = attemptAfter(attempt, delivered, event.code);
    const delay = backoffDelay(attempt++, Math.random(), defaultPolicy);
    const retryAt = Date.now() + delay;
    const tick = () => {
      const left = Math.max(0, retryAt - Date.now());
      show("reconnecting", "reconnecting in " + (left / 1000).toFixed(1) + " s");
      if (left === 0) { clearInterval(countdown); connect(); }
    };
    clearInterval(countdown);
    countdown = setInterval(tick, 100);
    tick();
  };
};
connect();
`

export const demoPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Integer Forge</title>
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
  <footer>Integers as a service. Try <code>websocat ws://HOST/_ws/</code> too.</footer>
</main>
<script type="module">${script}</script>
</body>
</html>
`
