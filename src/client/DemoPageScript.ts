/// <reference lib="dom" />
/**
 * The script of the demo page at `GET /`, run by the browser: it connects to the same origin's
 * `/_ws/demo` (wss: on an https: page), shows the latest integers and the connection's state,
 * resumes with `?since=`, and reconnects by the rules of `ReconnectPolicy`, imported as the Node
 * client imports them. The build bundles this file for browsers on its own (scripts/
 * demoPageScript.mjs), and the page carries that bundle, so the page runs the policy's code as
 * compiled, whatever the service's own bundle does to its names.
 */
import { decide, initialRetryState } from "./ReconnectPolicy.js"

// How many integers the history line shows.
const historyLength = 12

const element = (id: string): HTMLElement => {
  const found = document.getElementById(id)
  if (found === null) throw new Error(`the demo page has no #${id}`)
  return found
}

const value = element("value")
const state = element("state")
const notice = element("notice")
const history = element("history")

const socketUrl = (since: number | undefined): string => {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:"
  return `${scheme}//${location.host}/_ws/demo${since === undefined ? "" : `?since=${since}`}`
}

const show = (name: string, text: string) => {
  document.body.dataset["state"] = name
  state.textContent = text
}

const record = (n: number) => {
  value.textContent = String(n)
  const item = document.createElement("li")
  item.textContent = String(n)
  history.prepend(item)
  while (history.children.length > historyLength) history.lastElementChild?.remove()
}

let last: number | undefined
let retry = initialRetryState
let countdown: ReturnType<typeof setInterval> | undefined

const retryLater = (delayMs: number) => {
  const retryAt = Date.now() + delayMs
  const tick = () => {
    const left = Math.max(0, retryAt - Date.now())
    show("reconnecting", `reconnecting in ${(left / 1000).toFixed(1)} s`)
    if (left === 0) {
      clearInterval(countdown)
      connect()
    }
  }
  clearInterval(countdown)
  countdown = setInterval(tick, 100)
  tick()
}

const connect = () => {
  show("connecting", "connecting")
  const ws = new WebSocket(socketUrl(last))
  let opened = false
  let delivered = false
  // A browser cannot read the handshake's headers; an integer at or below the one it resumed
  // after is how the page learns that the service's sequence started over.
  let resumedAfter = last
  ws.onopen = () => {
    opened = true
    show("live", "live")
  }
  ws.onmessage = (event: MessageEvent) => {
    const n = Number(event.data)
    if (!Number.isInteger(n)) return
    delivered = true
    if (resumedAfter !== undefined && n <= resumedAfter) {
      notice.textContent = `The sequence restarted: integers after ${resumedAfter} cannot be replayed.`
      history.replaceChildren()
    }
    resumedAfter = undefined
    last = n
    record(n)
  }
  ws.onclose = (event: CloseEvent) => {
    // A refused handshake shows only as a close before opening: the page cannot read the status.
    const ending = opened ? { _tag: "Closed", code: event.code, delivered } as const : { _tag: "Failed" } as const
    const decision = decide(retry, ending, Math.random())
    if (decision._tag === "Stop") return show("stopped", `closed by the server (${event.code}); reload to retry`)
    retry = decision.state
    retryLater(decision.delayMs)
  }
}

connect()
