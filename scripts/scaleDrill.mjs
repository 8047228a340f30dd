/**
 * `npm run drill`: the rolling deploy at scale, a benchmark rather than a test. A local fleet
 * (localFleet.mjs: Redis, 3 instances at their default settings, HAProxy at its defaults, as many
 * HAProxy processes as the open-files limit asks for), 15,000 raw clients spread over load
 * processes (scaleDrillClients.mjs) that resume with `?since=`; every instance restarted in turn;
 * then the instances rebalance. It prints, per client, integers missed and repeated and the
 * longest silence; per instance, clients before, after the deploy and after balancing; handshakes
 * per second at the peak; the time until balanced; every instance's exit code.
 *
 *   npm run drill                                   15,000 clients
 *   npm run drill -- --clients 3000 --step 5000     fewer clients; ms from one instance back to the next restart
 *   npm run drill -- --env REBALANCE_MAX_PER_SECOND=0 --log drill.log   a setting; every process's output
 */
import { fork } from "node:child_process"
import { createWriteStream } from "node:fs"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { cpuMs, machineBusyMs } from "./bench/processStats.mjs"
import { quantile } from "./bench/statistics.mjs"
import { startLocalFleet } from "./localFleet.mjs"

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "15000" },
    instances: { type: "string", default: "3" },
    step: { type: "string", default: "5000" },
    tolerance: { type: "string", default: "15" },
    log: { type: "string" },
    env: { type: "string", multiple: true, default: [] }
  }
})
const clients = Number(values.clients)
const instances = Number(values.instances)
const stepMs = Number(values.step)
const tolerance = Number(values.tolerance) / 100

// A HAProxy process holds two descriptors per client, a load process one: both stay well under
// the 20,000 open files a process may have here.
const clientsPerProxy = 7500
const clientsPerLoadProcess = 5000
const clientsPerSourceAddress = 1000
const balanceWithinMs = 120_000

const say = (line) => {
  console.log(`[drill] ${line}`)
  logFile?.write(`${Date.now()} drill ${line}\n`)
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const loadProcess = () => {
  const child = fork(fileURLToPath(new URL("./scaleDrillClients.mjs", import.meta.url)), [], {
    stdio: ["ignore", "inherit", "inherit", "ipc"]
  })
  let nextId = 0
  const waiting = new Map()
  child.on("message", (/** @type {any} */ { id, result }) => {
    waiting.get(id)?.(result)
    waiting.delete(id)
  })
  const request = (command, options = {}) =>
    new Promise((resolve) => {
      const id = nextId++
      waiting.set(id, resolve)
      child.send({ command, id, ...options })
    })
  return { child, request }
}

/** Open connections of each instance, from its metrics. */
const countsOf = (ports) =>
  Promise.all(ports.map(async (port) => {
    try {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
      return [...text.matchAll(/^forge_connections_open\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0)
    } catch {
      return 0
    }
  }))

const isBalanced = (counts) => {
  const share = counts.reduce((a, b) => a + b, 0) / counts.length
  return counts.every((count) => Math.abs(count - share) <= share * tolerance)
}

const summary = (values) =>
  values.length === 0
    ? "none"
    : `p50 ${Math.round(quantile(values, 0.5))} ms, p99 ${Math.round(quantile(values, 0.99))} ms, max ${
      Math.round(Math.max(...values))
    } ms`

const rebalanceLines = []
const problems = []
const logFile = values.log === undefined ? undefined : createWriteStream(values.log)
const fleet = await startLocalFleet({
  instances,
  proxies: Math.ceil(clients / clientsPerProxy),
  env: { LOG_FORMAT: "json", ...Object.fromEntries(values.env.map((pair) => pair.split(/=(.*)/s).slice(0, 2))) },
  output: (name, line) => {
    logFile?.write(`${Date.now()} ${name} ${line}\n`)
    if (line.includes("rebalancing:")) rebalanceLines.push(`${name} ${line}`)
    else if (/"logLevel":"(WARNING|WARN|ERROR|FATAL)"/.test(line)) problems.push(`${name} ${line}`)
  },
  say
})
const loads = Array.from({ length: Math.ceil(clients / clientsPerLoadProcess) }, loadProcess)
const sourceAddresses = Array.from(
  { length: Math.ceil(clients / clientsPerSourceAddress) },
  (_, i) => `127.0.0.${i + 2}`
)
try {
  // CPU by role and phase, from /proc: where a wave's time goes on this machine.
  const cpu = {}
  const seen = new Map()
  let cpuPhase = "open"
  const roles = () => [
    ...fleet.ports.map((_, i) => ({ role: "instances", pid: fleet.instance(i)?.pid })),
    ...fleet.proxies.map((p) => ({ role: "haproxy", pid: p.pid })),
    ...loads.map((l) => ({ role: "clients", pid: l.child.pid })),
    { role: "redis", pid: fleet.redis.pid },
    { role: "drill", pid: process.pid },
    { role: "machine", pid: -1 }
  ]
  const sampleCpu = () => {
    for (const { pid, role } of roles()) {
      if (pid === undefined) continue
      let now
      try {
        now = pid === -1 ? machineBusyMs() : cpuMs(pid)
      } catch {
        continue
      }
      const before = seen.get(pid)
      seen.set(pid, now)
      if (before === undefined) continue
      const phase = (cpu[cpuPhase] ??= {})
      phase[role] = (phase[role] ?? 0) + now - before
    }
  }
  const sampler = setInterval(sampleCpu, 1000)
  const enter = async (phase) => {
    sampleCpu()
    cpuPhase = phase
    phaseStarted[phase] = Date.now()
    await Promise.all(loads.map((load) => load.request("phase", { phase })))
  }
  const phaseStarted = {}
  say(`${instances} instances, ${fleet.proxies.length} HAProxy, ${loads.length} load processes, ${clients} clients`)
  let first = 0
  const opening = Date.now()
  await Promise.all(loads.map((load, i) => {
    const count = Math.floor(clients / loads.length) + (i < clients % loads.length ? 1 : 0)
    const request = load.request("open", {
      proxyPorts: fleet.proxies.map((p) => p.port),
      sourceAddresses: sourceAddresses.filter((_, a) => a % loads.length === i),
      first,
      count
    })
    first += count
    return request
  }))
  say(`every client receiving after ${Date.now() - opening} ms`)
  await sleep(3000)
  const before = await countsOf(fleet.ports)

  await enter("deploy")
  const restarts = []
  for (let i = 0; i < instances; i++) {
    const began = Date.now()
    const code = await fleet.restart(i)
    restarts.push({ instance: `forge${i + 1}`, code, ms: Date.now() - began })
    say(`forge${i + 1} exited ${code} and is back after ${Date.now() - began} ms`)
    // As a rolling deploy waits for the new one to be ready: HAProxy takes it back after two good
    // health checks a second apart.
    if (i < instances - 1) await sleep(stepMs)
  }
  const lastRestart = Date.now()
  // HAProxy takes the last one back after two good health checks, then clients may reach it.
  await sleep(3000)
  const afterDeploy = await countsOf(fleet.ports)

  await enter("balance")
  let balancedAfter
  let counts = afterDeploy
  while (Date.now() - lastRestart < balanceWithinMs) {
    counts = await countsOf(fleet.ports)
    if (isBalanced(counts) && counts.reduce((a, b) => a + b, 0) >= clients * 0.99) {
      balancedAfter = Date.now() - lastRestart
      break
    }
    await sleep(500)
  }
  // Whatever was still moving when the spread came within the tolerance settles.
  await sleep(5000)
  const afterBalancing = await countsOf(fleet.ports)

  await enter("end")
  clearInterval(sampler)
  for (const phase of ["deploy", "balance"]) {
    const seconds = (phaseStarted[phase === "deploy" ? "balance" : "end"] - phaseStarted[phase]) / 1000
    console.log(
      `[drill] CPU in the ${phase} phase (${seconds.toFixed(0)} s), % of one core: ${
        Object.entries(cpu[phase] ?? {}).map(([role, ms]) => `${role} ${Math.round(ms / seconds / 10)}`).join(", ")
      }`
    )
  }
  const reports = await Promise.all(loads.map((load) => load.request("report")))
  const all = reports.flatMap((r) => r.clients)
  const handshakes = new Map()
  for (const { at, count } of reports.flatMap((r) => r.handshakes)) {
    const second = Math.floor(at / 1000)
    handshakes.set(second, (handshakes.get(second) ?? 0) + count)
  }
  const failures = {}
  for (const [phase, counts] of reports.flatMap((r) => Object.entries(r.failures))) {
    for (const [why, count] of Object.entries(counts)) {
      const key = `${phase}: ${why}`
      failures[key] = (failures[key] ?? 0) + count
    }
  }
  const timeline = new Map()
  for (const { at, count } of reports.flatMap((r) => r.received)) {
    const second = Math.floor(at / 1000)
    timeline.set(second, (timeline.get(second) ?? 0) + count)
  }
  const seconds = [...timeline.keys()].sort((a, b) => a - b)
  logFile?.write(`integers received per second: ${seconds.map((s) => `${s % 1000}:${timeline.get(s)}`).join(" ")}\n`)
  for (const phase of ["deploy", "balance"]) {
    const samples = reports.flatMap((r) => r.moves[phase] ?? [])
    if (samples.length === 0) continue
    const parts = ["last integer → close frame", "→ socket closed", "→ next attempt", "→ 101", "→ next integer"]
    console.log(`[drill] a move in the ${phase} phase, median (p99) ms: ${
      parts.map((label, k) => {
        const values = samples.map((s) => s[k])
        return `${label} ${Math.round(quantile(values, 0.5))} (${Math.round(quantile(values, 0.99))})`
      }).join(", ")
    }`)
  }
  const moved = all.filter((c) => (c.moves.balance ?? 0) > 0)
  const missed = all.reduce((n, c) => n + c.missed, 0)
  const repeated = all.reduce((n, c) => n + c.repeated, 0)
  await Promise.all(loads.map((load) => load.request("close")))
  await fleet.stop()
  const exits = fleet.exits.map((e) => `${e.name} ${e.code}`)

  console.log([
    "",
    `deploy drill at scale: ${clients} clients, ${instances} instances (Node ${process.version}), ` +
    `${fleet.proxies.length} HAProxy processes, the next restart ${stepMs} ms after one is back`,
    `integers missed ${missed}, repeated ${repeated} (all clients, the whole drill)`,
    `longest silence per client during the deploy: ${summary(all.map((c) => c.longest.deploy ?? 0))}`,
    `  of the ${all.filter((c) => c.failures === 0).length} clients that never failed to connect: ${
      summary(all.filter((c) => c.failures === 0).map((c) => c.longest.deploy ?? 0))
    }`,
    `longest silence of the ${moved.length} clients moved by the rebalancing: ${
      summary(moved.map((c) => c.longest.balance ?? 0))
    }`,
    `clients per instance before ${before.join(" / ")}, after the deploy ${afterDeploy.join(" / ")}, ` +
    `after balancing ${afterBalancing.join(" / ")}`,
    `balanced (±${values.tolerance} %) ${
      balancedAfter === undefined ? "not within 120 s" : `${(balancedAfter / 1000).toFixed(1)} s`
    } after the last restart`,
    `handshakes per second at the peak: ${Math.max(0, ...handshakes.values())}`,
    `failed attempts: ${Object.entries(failures).map(([key, count]) => `${key} ×${count}`).join(", ") || "none"}`,
    `restarts: ${restarts.map((r) => `${r.instance} exit ${r.code} in ${(r.ms / 1000).toFixed(1)} s`).join(", ")}`,
    `instance exits: ${exits.join(", ")}`,
    `rebalancing rounds logged: ${rebalanceLines.length}; warnings and errors logged: ${problems.length}`,
    ...problems.slice(0, 5)
  ].join("\n"))
  logFile?.end()
  const ok = missed === 0 && repeated === 0 && fleet.exits.every((e) => e.code === 0) && balancedAfter !== undefined
  process.exitCode = ok ? 0 : 1
} catch (error) {
  console.error(`[drill] ${error instanceof Error ? error.stack : String(error)}`)
  await fleet.stop()
  process.exitCode = 1
} finally {
  for (const load of loads) load.child.kill("SIGKILL")
}
