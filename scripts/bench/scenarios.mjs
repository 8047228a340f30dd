/**
 * The measurements, one server at a time: each starts the server, drives the load generator
 * against it, reads the server's CPU and memory from /proc, and stops everything it started,
 * whatever happens.
 */
import { monotonicMs, sleep } from "./clock.mjs"
import { startLoad } from "./loadProcesses.mjs"
import { MinimalWebSocket } from "./minimalWebSocket.mjs"
import { cpuMs, machineBusyMs } from "./processStats.mjs"
import { freePort, spawnServer, startServer } from "./serverProcess.mjs"
import { median, quantile, sum } from "./statistics.mjs"

// An integer's fan-out may still be under way when the window closes; reports are taken this
// much later so that the integers first received inside the window are complete.
const fanOutSettleMs = 1000

// Above the ceiling any run here needs, so that the service's default (10,000) never refuses.
const roomyMaxConnections = "19500"

/** Runs `body` with a started server and load generator, and stops both afterwards. */
const withServerAndLoad = async ({ clients, env, kind, node, nodeArgs, service }, body) => {
  const server = await startServer({
    kind,
    service,
    node,
    nodeArgs,
    env: { MAX_CONNECTIONS: roomyMaxConnections, ...env }
  })
  let load
  try {
    load = await startLoad({ clients, port: server.port })
    return await body(server, load)
  } finally {
    await load?.stop()
    const { code, signal } = await server.stop()
    if (code !== 0 && signal !== "SIGTERM") {
      console.warn(`${kind} exited with ${code ?? signal}:\n${server.output().slice(-2000)}`)
    }
  }
}

const failuresOf = (outcome) => sum(Object.values(outcome.refused)) + sum(Object.values(outcome.failed))

/** Why connections failed, e.g. { "status 503": 2, ECONNRESET: 1 }. */
const failureReasonsOf = (...outcomes) => {
  const reasons = {}
  for (const outcome of outcomes) {
    for (const [status, n] of Object.entries(outcome.refused)) {
      reasons[`status ${status}`] = (reasons[`status ${status}`] ?? 0) + n
    }
    for (const [reason, n] of Object.entries(outcome.failed)) reasons[reason] = (reasons[reason] ?? 0) + n
  }
  return reasons
}

/** CPU time of the load-generator processes, to show whether they were the bottleneck. */
const loadCpuMs = (load) => sum(load.pids.map((pid) => cpuMs(pid)))

/**
 * What one window of a steady stream shows. Integers count when their first receipt falls in
 * [from, to); the integers-per-second rate is measured between the first and the last of them,
 * so it does not depend on where the window edges fall between two ticks.
 */
const analyseStream = (report, { from, to }) => {
  const inWindow = report.integers.filter(([, first]) => first >= from && first < to)
  const complete = inWindow.filter(([, , , count]) => count === report.open)
  const spreads = complete.map(([, first, last]) => last - first)
  const span = inWindow.length > 1 ? inWindow.at(-1)[1] - inWindow[0][1] : NaN
  return {
    delivered: sum(inWindow.map(([, , , count]) => count)),
    integersInWindow: inWindow.length,
    incompleteIntegers: inWindow.length - complete.length,
    integersPerSecond: ((inWindow.length - 1) * 1000) / span,
    spreadP50Ms: quantile(spreads, 0.5),
    spreadP99Ms: quantile(spreads, 0.99),
    spreadMaxMs: spreads.length === 0 ? NaN : Math.max(...spreads)
  }
}

/** The sequence checks of every client over the whole run. */
const sequenceChecks = (report) => ({
  open: report.open,
  closedByServer: sum(Object.values(report.closedByServer)),
  missing: report.missing,
  repeats: report.repeats,
  clientsWithGaps: report.clientsWithGaps,
  clientsWithRepeats: report.clientsWithRepeats,
  malformed: report.malformed,
  silent: report.silent
})

/** What every scenario reports of the connections it opened. */
const connectionsOf = (opened) => ({
  opened: opened.opened,
  failures: failuresOf(opened),
  failureReasons: failureReasonsOf(opened),
  connectMs: opened.ms
})

/**
 * A steady stream: `clients` clients at one integer every `intervalMs`. Gives the server's CPU
 * per delivered message, integers per second, fan-out spread (last − first receipt) and the
 * sequence checks.
 */
export const measureStream = (
  { clients, intervalMs, kind, node, nodeArgs, service, settleMs = fanOutSettleMs, warmupMs, windowMs }
) =>
  withServerAndLoad(
    { clients, kind, node, nodeArgs, service, env: { FORGE_INTERVAL_MS: String(intervalMs) } },
    async (server, load) => {
      const opened = await load.open(clients)
      await sleep(warmupMs)
      const from = monotonicMs()
      const serverCpu0 = server.cpuMs()
      const loadCpu0 = loadCpuMs(load)
      const machine0 = machineBusyMs()
      await sleep(windowMs)
      const to = monotonicMs()
      const serverCpuMs = server.cpuMs() - serverCpu0
      const loadCpu = loadCpuMs(load) - loadCpu0
      const otherCpu = machineBusyMs() - machine0 - serverCpuMs - loadCpu
      const rssKiB = server.rssKiB()
      await sleep(Math.max(settleMs, 2 * intervalMs))
      const report = await load.report()
      const stream = analyseStream(report, { from, to })
      return {
        ...connectionsOf(opened),
        serverRunning: server.isRunning(),
        scheduledPerSecond: 1000 / intervalMs,
        // The window on the machine's monotonic clock: profileSummary.mjs --from/--to take it.
        windowFromMs: from,
        windowToMs: to,
        ...stream,
        cpuUsPerMessage: (serverCpuMs * 1000) / stream.delivered,
        serverCpuPercent: (serverCpuMs / (to - from)) * 100,
        loadCpuPercent: (loadCpu / (to - from)) * 100,
        // Everything else on the machine (other processes, interrupts): the noise of this window.
        // /proc/stat and the per-process counters tick apart, so "nothing else" reads a few % either side of 0.
        otherCpuPercent: Math.max(0, (otherCpu / (to - from)) * 100),
        rssKiB,
        ...sequenceChecks(report)
      }
    }
  )

/**
 * Resident memory per idle connection: the server's RSS with a few warm-up clients open (so
 * that code paths and buffers of the first connections are not counted), then with `clients`
 * more. The forge interval is an hour, so nothing is sent.
 */
export const measureMemory = ({ clients, kind, node, nodeArgs, service, settleMs }) =>
  withServerAndLoad(
    { clients: clients + 20, kind, node, nodeArgs, service, env: { FORGE_INTERVAL_MS: "3600000" } },
    async (server, load) => {
      const sampleRss = async () => {
        const samples = []
        for (let i = 0; i < 5; i++) {
          samples.push(server.rssKiB())
          await sleep(200)
        }
        return median(samples)
      }
      const warm = await load.open(20)
      await sleep(settleMs / 2)
      const before = await sampleRss()
      const opened = await load.open(clients)
      await sleep(settleMs)
      const after = await sampleRss()
      const report = await load.report()
      return {
        opened: opened.opened,
        failures: failuresOf(opened) + failuresOf(warm),
        failureReasons: failureReasonsOf(warm, opened),
        connectMs: opened.ms,
        serverRunning: server.isRunning(),
        rssBeforeKiB: before,
        rssAfterKiB: after,
        kibPerConnection: (after - before) / opened.opened,
        ...sequenceChecks(report)
      }
    }
  )

/**
 * Capacity: `MAX_CONNECTIONS` = `clients` (the fd limit minus the service's margin), that many
 * clients, then `extra` attempts beyond, which must be refused with 503 while the others keep
 * receiving every integer.
 */
export const measureCapacity = ({ clients, extra, intervalMs, kind, node, nodeArgs, service, windowMs }) =>
  withServerAndLoad({
    clients: clients + extra,
    kind,
    node,
    nodeArgs,
    service,
    env: { FORGE_INTERVAL_MS: String(intervalMs), MAX_CONNECTIONS: String(clients) }
  }, async (server, load) => {
    const opened = await load.open(clients)
    await sleep(1000)
    const beyond = await load.open(extra)
    const from = monotonicMs()
    await sleep(windowMs)
    const to = monotonicMs()
    const rssKiB = server.rssKiB()
    await sleep(Math.max(fanOutSettleMs, 2 * intervalMs))
    const report = await load.report()
    const stream = analyseStream(report, { from, to })
    return {
      ...connectionsOf(opened),
      extraAttempts: extra,
      extraRefused503: beyond.refused["503"] ?? 0,
      extraOpened: beyond.opened,
      serverRunning: server.isRunning(),
      rssKiB,
      ...stream,
      ...sequenceChecks(report)
    }
  })

/** Resolves with an open client, or rejects if the connection or handshake does not succeed. */
const connectOnce = (port) =>
  new Promise((resolve, reject) => {
    const ignore = () => {}

    new MinimalWebSocket({
      host: "127.0.0.1",
      port,
      path: "/_ws/startup",
      handshakeTimeoutMs: 5000,
      events: {
        open: resolve,
        refused: (_client, status) => reject(new Error(`refused ${status}`)),
        failed: (_client, reason) => reject(new Error(reason)),
        integer: ignore,
        malformed: ignore,
        closed: ignore
      }
    })
  })

/**
 * Spawns a server and connects to it, retrying every `retryMs`, until its first upgrade; calls
 * `started` with the time from the spawn to that 101 and with the server, then stops it. Without
 * an upgrade within 30 s, or should the server exit first, `started` gets NaN.
 */
const untilFirstUpgrade = async ({ kind, node, service, retryMs }, started) => {
  const port = await freePort()
  const spawnedAt = monotonicMs()
  const server = spawnServer({ kind, service, node, port, env: { FORGE_INTERVAL_MS: "1000" } })
  try {
    while (monotonicMs() < spawnedAt + 30_000 && server.isRunning()) {
      try {
        const client = await connectOnce(port)
        const startupMs = monotonicMs() - spawnedAt
        client.destroy()
        return await started(startupMs, server)
      } catch {
        await sleep(retryMs)
      }
    }
    return await started(NaN, server)
  } finally {
    await server.stop()
  }
}

/**
 * One start that is not measured: it connects once and runs for three seconds, so that the
 * measured starts find what a start reads in the page cache, as a deploy's starts do.
 */
export const warmStart = ({ kind, node, service }) =>
  untilFirstUpgrade({ kind, node, service, retryMs: 20 }, () => sleep(3000))

/** Start-up: from spawning the process to the 101 of its first WebSocket, retried every 2 ms. */
export const measureStartup = ({ kind, node, service }) =>
  untilFirstUpgrade({ kind, node, service, retryMs: 2 }, async (startupMs, server) => {
    if (Number.isNaN(startupMs)) return { startupMs, startupRssMiB: NaN }
    // What a fresh instance holds before its clients come back: after its first upgrade and half
    // a second for whatever start-up left behind to settle.
    await sleep(500)
    return { startupMs, startupRssMiB: server.rssKiB() / 1024 }
  })

// Counts that must add up across runs (and should all be 0); other numbers are averaged.
const counters = new Set([
  "failures",
  "closedByServer",
  "missing",
  "repeats",
  "clientsWithGaps",
  "clientsWithRepeats",
  "malformed",
  "silent",
  "incompleteIntegers"
])
// Where each run is in time: they make no sense averaged (the runs keep them).
const perRun = new Set(["windowFromMs", "windowToMs"])

/** Several runs of one server in one round as one result: counters summed, figures averaged. */
export const combineRuns = (runs) => {
  if (runs.length === 1) return runs[0]
  const measured = runs.filter((run) => run.error === undefined)
  const combined = { runs }
  for (const key of Object.keys(measured[0] ?? {})) {
    const values = measured.map((run) => run[key])
    if (typeof values[0] === "boolean") combined[key] = values.every(Boolean)
    else if (typeof values[0] !== "number" || perRun.has(key)) continue
    else if (counters.has(key)) combined[key] = sum(values)
    else combined[key] = sum(values) / values.length
  }
  if (measured.length < runs.length) combined.error = runs.find((run) => run.error !== undefined).error
  return combined
}
