/**
 * One load process of the deploy drill at scale (scaleDrill.mjs): its share of the clients, each a
 * raw WebSocket client (bench/minimalWebSocket.mjs) that resumes with `?since=` after a 1012 or
 * 1001 (0–500 ms later, at random) and backs off after a failure. Per client it records integers
 * missed and repeated, and the longest silence between two integers in each phase the drill names.
 * Driven over IPC: `open`, `phase`, `report`.
 */
import { monotonicMs } from "./bench/clock.mjs"
import { MinimalWebSocket } from "./bench/minimalWebSocket.mjs"

const resumeDelayMs = 500
const backoffBaseMs = 250
const backoffCapMs = 5000

/** @type {{ proxyPorts: Array<number>, sourceAddresses: Array<string>, first: number, count: number }} */
let setup
const clients = []
let phase = "open"
const startedAt = Date.now()
/** Handshakes completed, per second since this process started. */
const handshakes = []
/** Integers received (new ones), per second. */
const received = []
/** Attempts that failed, by phase and why: an HTTP status, or what the socket said. */
const failures = {}
const failure = (why) => {
  const counts = (failures[phase] ??= {})
  counts[why] = (counts[why] ?? 0) + 1
}

const newClient = (k) => ({
  k,
  socket: undefined,
  last: undefined,
  lastAt: undefined,
  missed: 0,
  repeated: 0,
  attempt: 0,
  failures: 0,
  /** The longest silence in each phase, and how many times it reconnected in it. */
  longest: {},
  moves: {}
})

/** Where a move's time goes, by phase: from the last integer to the close frame, to the socket's close, to the next attempt, to the 101, to the next integer. */
const moves = {}
const connect = (client) => {
  client.triedAt = monotonicMs()
  const port = setup.proxyPorts[client.k % setup.proxyPorts.length]
  const source = setup.sourceAddresses.length === 0
    ? undefined
    : setup.sourceAddresses[client.k % setup.sourceAddresses.length]
  client.socket = new MinimalWebSocket({
    host: "127.0.0.1",
    port,
    ...(source === undefined ? {} : { localAddress: source }),
    path: client.last === undefined ? "/_ws/drill" : `/_ws/drill?since=${client.last}`,
    events: {
      open: () => {
        client.openAt = monotonicMs()
        client.attempt = 0
        const second = Math.floor((Date.now() - startedAt) / 1000)
        handshakes[second] = (handshakes[second] ?? 0) + 1
      },
      integer: (_, n, at) => {
        if (client.last !== undefined) {
          if (n <= client.last) return void client.repeated++
          client.missed += n - client.last - 1
          const gap = at - client.lastAt
          if (gap > (client.longest[phase] ?? 0)) client.longest[phase] = gap
          if (client.move !== undefined) {
            const m = client.move
            ;(moves[phase] ??= []).push([
              m.frame - m.last,
              m.closed - m.frame,
              client.triedAt - m.closed,
              client.openAt - client.triedAt,
              at - client.openAt
            ])
            client.move = undefined
          }
        }
        client.last = n
        client.lastAt = at
        const second = Math.floor((Date.now() - startedAt) / 1000)
        received[second] = (received[second] ?? 0) + 1
      },
      malformed: () => {},
      refused: (_, status) => {
        client.failures++
        failure(String(status))
        retry(client, backoff(client))
      },
      failed: (_, reason) => {
        client.failures++
        failure(reason)
        retry(client, backoff(client))
      },
      closed: (socket, code) => {
        client.move = { last: client.lastAt, frame: socket.closeFrameAt ?? monotonicMs(), closed: monotonicMs() }
        client.moves[phase] = (client.moves[phase] ?? 0) + 1
        retry(client, code === 1012 || code === 1001 ? Math.random() * resumeDelayMs : backoff(client))
      }
    }
  })
}

const backoff = (client) => Math.random() * Math.min(backoffCapMs, backoffBaseMs * 2 ** client.attempt++)

const retry = (client, delayMs) => {
  if (phase === "done") return
  setTimeout(() => connect(client), delayMs)
}

process.on("message", (/** @type {any} */ message) => {
  const answer = (result) => process.send?.({ id: message.id, result })
  if (message.command === "open") {
    setup = message
    for (let i = 0; i < setup.count; i++) clients.push(newClient(setup.first + i))
    // At most this many handshakes in flight, so that opening is not itself a storm.
    let next = 0
    const openNext = () => {
      if (next >= clients.length) return
      const client = clients[next++]
      connect(client)
      setTimeout(openNext, 0)
    }
    for (let i = 0; i < 50; i++) openNext()
    const check = setInterval(() => {
      const receiving = clients.filter((c) => c.last !== undefined).length
      if (receiving < clients.length) return
      clearInterval(check)
      answer(receiving)
    }, 200)
  } else if (message.command === "phase") {
    phase = message.phase
    answer(phase)
  } else if (message.command === "report") {
    answer({
      clients: clients.map((c) => ({
        failures: c.failures,
        missed: c.missed,
        repeated: c.repeated,
        longest: c.longest,
        moves: c.moves
      })),
      failures,
      moves,
      received: Array.from(received, (count, second) => ({ at: startedAt + second * 1000, count: count ?? 0 })),
      handshakes: Array.from(handshakes, (count, second) => ({ at: startedAt + second * 1000, count: count ?? 0 }))
    })
  } else if (message.command === "close") {
    phase = "done"
    for (const client of clients) client.socket?.destroy()
    answer(true)
  }
})
