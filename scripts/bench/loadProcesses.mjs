/**
 * The load generator as seen by the runner: one or more worker processes (loadWorker.mjs), each
 * with its share of the clients, and their reports merged into one.
 */
import { fork } from "node:child_process"
import { fileURLToPath } from "node:url"

const workerScript = fileURLToPath(new URL("./loadWorker.mjs", import.meta.url))

// A process holds at most its fd limit of sockets (20,000 here, with the runtime's own); this
// many clients per process stays well inside it and leaves room for refused extra attempts.
const clientsPerProcess = 10_000
// Above this many clients, sources are spread over 127.0.0.2, 127.0.0.3, …: one address per
// this many clients, so that no address nears its ~28,000 ephemeral ports.
const clientsPerSourceAddress = 1000
const requestTimeoutMs = 120_000

const spawnWorker = () => {
  const child = fork(workerScript, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] })
  let nextId = 0
  const waiting = new Map()
  child.on("message", (/** @type {any} */ { error, id, result }) => {
    const request = waiting.get(id)
    if (request === undefined) return
    waiting.delete(id)
    clearTimeout(request.timer)
    if (error === undefined) request.resolve(result)
    else request.reject(new Error(`load worker ${child.pid}: ${error}`))
  })
  child.on("exit", (code, signal) => {
    for (const request of waiting.values()) {
      clearTimeout(request.timer)
      request.reject(new Error(`load worker ${child.pid} exited (${code ?? signal})`))
    }
    waiting.clear()
  })
  const request = (command, options = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++
      const timer = setTimeout(() => {
        waiting.delete(id)
        reject(new Error(`load worker ${child.pid}: no answer to ${command} in ${requestTimeoutMs} ms`))
      }, requestTimeoutMs)
      waiting.set(id, { resolve, reject, timer })
      child.send({ command, id, ...options })
    })
  const stop = () => /** @type {Promise<void>} */ (new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const killer = setTimeout(() => child.kill("SIGKILL"), 5000)
    child.once("exit", () => {
      clearTimeout(killer)
      resolve()
    })
    child.kill("SIGTERM")
  }))
  return { pid: child.pid, request, stop }
}

const sourceAddressesFor = (totalClients) => {
  if (totalClients <= clientsPerSourceAddress) return []
  const count = Math.min(250, Math.ceil(totalClients / clientsPerSourceAddress))
  return Array.from({ length: count }, (_, i) => `127.0.0.${i + 2}`)
}

const mergeCounts = (into, from) => {
  for (const [key, value] of Object.entries(from)) into[key] = (into[key] ?? 0) + value
  return into
}

/** Reports of several workers as one: per-integer records combined, counts added up. */
export const mergeReports = (reports) => {
  const integers = new Map()
  for (const report of reports) {
    for (const [n, first, last, count] of report.integers) {
      const record = integers.get(n)
      if (record === undefined) integers.set(n, [n, first, last, count])
      else {
        record[1] = Math.min(record[1], first)
        record[2] = Math.max(record[2], last)
        record[3] += count
      }
    }
  }
  const added = (key) => reports.reduce((total, r) => total + r[key], 0)
  return {
    open: added("open"),
    everOpened: added("everOpened"),
    closedByServer: reports.reduce((all, r) => mergeCounts(all, r.closedByServer), {}),
    clientsWithGaps: added("clientsWithGaps"),
    missing: added("missing"),
    clientsWithRepeats: added("clientsWithRepeats"),
    repeats: added("repeats"),
    malformed: added("malformed"),
    silent: added("silent"),
    firstRange: [Math.min(...reports.map((r) => r.firstRange[0])), Math.max(...reports.map((r) => r.firstRange[1]))],
    lastRange: [Math.min(...reports.map((r) => r.lastRange[0])), Math.max(...reports.map((r) => r.lastRange[1]))],
    integers: [...integers.values()].sort((a, b) => a[0] - b[0]),
    cpuMs: added("cpuMs")
  }
}

const mergeOutcomes = (outcomes) => ({
  opened: outcomes.reduce((total, o) => total + o.opened, 0),
  refused: outcomes.reduce((all, o) => mergeCounts(all, o.refused), {}),
  failed: outcomes.reduce((all, o) => mergeCounts(all, o.failed), {}),
  ms: Math.max(0, ...outcomes.map((o) => o.ms))
})

/**
 * Starts the worker processes for `clients` clients of the server at `port` (nothing is opened
 * yet). `open` opens a number of clients spread over the workers, all at once.
 */
export const startLoad = async ({ clients, concurrency = 200, host = "127.0.0.1", path = "/_ws/bench", port }) => {
  const workerCount = Math.max(1, Math.ceil(clients / clientsPerProcess))
  const sourceAddresses = sourceAddressesFor(clients)
  const workers = Array.from({ length: workerCount }, spawnWorker)
  const stop = () => Promise.all(workers.map((w) => w.stop()))
  try {
    await Promise.all(workers.map((worker, i) =>
      worker.request("start", {
        host,
        port,
        path,
        // Each worker takes every workerCount-th address, so workers never share one.
        sourceAddresses: sourceAddresses.filter((_, a) => a % workerCount === i)
      })
    ))
  } catch (error) {
    await stop()
    throw error
  }
  const inTurn = (count) => workers.map((_, i) => Math.floor(count / workerCount) + (i < count % workerCount ? 1 : 0))
  return {
    pids: workers.map((w) => w.pid),
    /** Opens `count` clients, `concurrency` handshakes at a time in each worker. */
    open: async (count) => {
      const shares = inTurn(count)
      return mergeOutcomes(
        await Promise.all(workers.map((w, i) => w.request("open", { count: shares[i], concurrency })))
      )
    },
    report: async () => mergeReports(await Promise.all(workers.map((w) => w.request("report")))),
    /** Drops every client, then stops the worker processes. */
    stop: async () => {
      await Promise.allSettled(workers.map((w) => w.request("close")))
      await stop()
    }
  }
}
