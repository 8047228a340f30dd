/**
 * The reconnect wave of a deploy: `clients` clients on one instance; SIGTERM; a fresh instance of
 * the same server on the same port; how long until every client is back and has received an
 * integer from it. Every client reconnects as soon as it is cut off (1012 from the service, a
 * reset from the baseline), and again after a random 0–50 ms whenever an attempt fails (nothing
 * listens yet, a 503), so both servers meet the same crowd. The time includes the new process's
 * start-up: that is what the clients wait for.
 */
import { monotonicMs, sleep } from "./clock.mjs"
import { MinimalWebSocket } from "./minimalWebSocket.mjs"
import { freePort, spawnServer } from "./serverProcess.mjs"

// Handshakes in flight while the clients first connect, as the other scenarios open them.
const openConcurrency = 200

export const measureReconnectWave = async ({ clients, kind, node, service }) => {
  const port = await freePort()
  // All closes at once: the wave at its steepest, for both servers.
  const env = { FORGE_INTERVAL_MS: "100", SHUTDOWN_SPREAD_MS: "0", LOG_LEVEL: "warn" }
  let server = spawnServer({ kind, service, node, port, env })
  const sockets = new Array(clients)
  const phase = { now: "opening", back: 0, attempts: 0, failures: 0 }
  let allBack
  const everyoneBack = new Promise((resolve) => (allBack = resolve))
  const cameBack = new Array(clients).fill(false)
  const receiving = new Array(clients).fill(false)
  let opened = 0
  let openedSignal
  const connect = (i, onOpen) => {
    phase.attempts++
    sockets[i] = new MinimalWebSocket({
      host: "127.0.0.1",
      port,
      path: "/_ws/wave",
      events: {
        open: () => onOpen?.(),
        integer: () => {
          if (phase.now === "wave" && !cameBack[i]) {
            cameBack[i] = true
            if (++phase.back === clients) allBack(monotonicMs())
          } else if (!receiving[i]) {
            receiving[i] = true
            if (++opened === clients) openedSignal?.()
          }
        },
        refused: () => retry(i),
        failed: () => retry(i),
        closed: () => retry(i, 0),
        malformed: () => phase.failures++
      }
    })
  }
  const retry = (i, delayMs = Math.random() * 50) => {
    if (phase.now === "done") return
    if (phase.now === "opening") phase.failures++
    setTimeout(() => connect(i), delayMs)
  }
  try {
    await server.listening
    const everyoneReceiving = new Promise((resolve) => (openedSignal = resolve))
    for (let from = 0; from < clients; from += openConcurrency) {
      const batch = []
      for (let i = from; i < Math.min(clients, from + openConcurrency); i++) {
        batch.push(new Promise((resolve) => connect(i, resolve)))
      }
      await Promise.all(batch)
    }
    await Promise.race([everyoneReceiving, sleep(30_000)])
    if (opened < clients) throw new Error(`only ${opened} of ${clients} clients received integers`)
    phase.now = "wave"
    phase.attempts = 0
    const waveStart = monotonicMs()
    await server.stop()
    server = spawnServer({ kind, service, node, port, env })
    const backAt = await Promise.race([everyoneBack, sleep(60_000).then(() => NaN)])
    return {
      opened: clients,
      failures: phase.failures + (clients - phase.back),
      waveMs: backAt - waveStart,
      attemptsPerClient: phase.attempts / clients
    }
  } finally {
    phase.now = "done"
    for (const socket of sockets) socket?.destroy()
    await server.stop()
  }
}
