/// <reference lib="dom" />
/**
 * The demo page's script, bundled for browsers by scripts/demoPageScript.mjs: it shows the latest
 * integers from the same origin's `/_ws/demo` and the connection's state, resumes in the sequence
 * the service announced (a browser cannot read the handshake's headers), and reconnects by
 * `ReconnectPolicy`.
 */
import { announcedSequence, resumeParams } from "../wire/ResumePoint.js"
import { decide, initialRetryState } from "./ReconnectPolicy.js"

const historyLength = 12
// How long the restart notice stays: long enough to read, not for good.
const noticeMs = 10_000

const element = (id: string): HTMLElement => {
  const found = document.getElementById(id)
  if (found === null) throw new Error(`the demo page has no #${id}`)
  return found
}

const value = element("value")
const state = element("state")
const stale = element("stale")
const notice = element("notice")
const history = element("history")

const socketUrl = (since: number | undefined, sequence: string | undefined): string => {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:"
  return `${scheme}//${location.host}/_ws/demo?${new URLSearchParams(resumeParams(since, sequence))}`
}

const show = (name: string, text: string) => {
  document.body.dataset["state"] = name
  state.textContent = text
  // Anything but live leaves the integer shown (dimmed) out of date: say how old it is.
  stale.textContent = name === "live" || last === undefined
    ? ""
    : `last integer ${last} at ${lastAt.toLocaleTimeString()}`
}

const record = (n: number) => {
  if (last !== undefined) {
    const item = document.createElement("li")
    item.textContent = String(last)
    history.prepend(item)
    while (history.children.length > historyLength) history.lastElementChild?.remove()
  }
  last = n
  lastAt = new Date()
  value.textContent = String(n)
}

let last: number | undefined
// The name of the sequence `last` belongs to, as the service announced it.
let sequence: string | undefined
// When `last` arrived: the page shows it while `last` is out of date.
let lastAt = new Date()
let noticeTimer: ReturnType<typeof setTimeout> | undefined

const tell = (text: string) => {
  notice.textContent = text
  clearTimeout(noticeTimer)
  noticeTimer = setTimeout(() => notice.textContent = "", noticeMs)
}

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
  countdown = setInterval(tick, 100)
  tick()
}

const connect = () => {
  show("connecting", "connecting")
  const ws = new WebSocket(socketUrl(last, sequence))
  let opened = false
  let delivered = false
  ws.onopen = () => {
    opened = true
    show("connected", "connected, waiting for the first integer")
  }
  ws.onmessage = (event: MessageEvent) => {
    const text = String(event.data)
    const named = announcedSequence(text)
    if (named !== undefined) {
      if (sequence !== undefined && named !== sequence && last !== undefined) {
        tell(`The service restarted its sequence after ${last}: the new one follows from its first integer.`)
        // The integers shown are of the old sequence.
        history.replaceChildren()
        last = undefined
      }
      sequence = named
      return
    }
    const n = Number(text)
    if (!Number.isInteger(n)) return
    record(n)
    if (!delivered) show("live", "live")
    delivered = true
  }
  ws.onclose = (event: CloseEvent) => {
    const ending = opened ? { _tag: "Closed", code: event.code, delivered } as const : { _tag: "Failed" } as const
    const decision = decide(retry, ending, Math.random())
    if (decision._tag === "Stop") return show("stopped", `closed by the server (${event.code}); reload to retry`)
    retry = decision.state
    retryLater(decision.delayMs)
  }
}

connect()
