/**
 * A server under test as a child process: Integer Forge (`node dist/main.cjs`) or the baseline
 * (baselineServer.mjs), started with the benchmark's environment, found by its start log, and
 * stopped by its PID.
 */
import { spawn } from "node:child_process"
import * as Net from "node:net"
import { fileURLToPath } from "node:url"
import { cpuMs, rssKiB } from "./processStats.mjs"

const baselineScript = fileURLToPath(new URL("./baselineServer.mjs", import.meta.url))

/** The built service of this repository; the runner may be pointed at another build. */
export const defaultService = fileURLToPath(new URL("../../dist/main.cjs", import.meta.url))

/** The servers the runner knows, by the name used in its results. */
export const serverKinds = {
  // No proxy in front here, so no shutdown notice to give one (the documented setting without a
  // proxy): the reconnect wave times the drain itself, as the baseline's.
  ours: { label: "Integer Forge", script: (service) => service, env: { SHUTDOWN_NOTICE_MS: "0" } },
  baseline: { label: "ws baseline", script: () => baselineScript, env: {} },
  "baseline-once": {
    label: "ws baseline, encoded once per tick",
    script: () => baselineScript,
    env: { BASELINE_SEND: "once" }
  },
  "baseline-frame": {
    label: "ws baseline, whole frame built once per tick",
    script: () => baselineScript,
    env: { BASELINE_SEND: "frame" }
  }
}

const listeningLine = /listening on \S+ port (\d+)/

// Servers not stopped yet, so that an interrupted run can still stop them by PID.
const running = new Set()

/** Kills every server still running (for a runner that is itself being stopped). */
export const killRunningServers = () => {
  for (const child of running) child.kill("SIGKILL")
}

/** A port that was free a moment ago on 127.0.0.1 (the OS picks it). */
export const freePort = () =>
  new Promise((resolve, reject) => {
    const probe = Net.createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {Net.AddressInfo} */ (probe.address())
      probe.close(() => resolve(port))
    })
  })

const accepts = (port) =>
  new Promise((resolve) => {
    const socket = Net.connect({ host: "127.0.0.1", port })
    socket.once("connect", () => resolve(true))
    socket.once("error", () => resolve(false))
    socket.once("connect", () => socket.destroy())
  })

/**
 * Spawns a server on `port` and returns as soon as it is spawned. `listening` resolves once its
 * start log says it listens or, should the log level hide that line, once it accepts a TCP
 * connection. `node` is the Node.js binary to run it with (this process's by default); `nodeArgs`
 * go to it (e.g. --cpu-prof).
 */
export const spawnServer = (
  { env = {}, kind, node = process.execPath, nodeArgs = [], port, service = defaultService }
) => {
  const spec = serverKinds[kind]
  if (spec === undefined) throw new Error(`unknown server kind ${kind}`)
  const child = spawn(node, [...nodeArgs, spec.script(service)], {
    env: { ...process.env, NODE_ENV: "production", HOST: "127.0.0.1", PORT: String(port), ...spec.env, ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  running.add(child)
  let output = ""
  const exited = new Promise((resolve) =>
    child.once("exit", (code, signal) => {
      running.delete(child)
      resolve({ code, signal })
    })
  )
  let settled = false
  const listening = new Promise((resolve, reject) => {
    const settle = (error) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      clearInterval(prober)
      if (error === undefined) resolve(port)
      else reject(error)
    }
    const timer = setTimeout(() => settle(new Error(`${kind}: not listening after 30 s:\n${output}`)), 30_000)
    const prober = setInterval(() => void accepts(port).then((yes) => yes && settle()), 50)
    const onOutput = (chunk) => {
      output += String(chunk)
      if (!settled && listeningLine.exec(output)?.[1] === String(port)) settle()
      // The service logs every connection: keep only the tail, for error messages.
      if (output.length > 64 * 1024) output = output.slice(-16 * 1024)
    }
    child.stdout.on("data", onOutput)
    child.stderr.on("data", onOutput)
    void exited.then(({ code, signal }) =>
      settle(new Error(`${kind} exited (${code ?? signal}) before listening:\n${output}`))
    )
  })
  // Only the first of these settles it; the later rejection is expected once the server stops.
  listening.catch(() => {})
  const isRunning = () => child.exitCode === null && child.signalCode === null
  return {
    kind,
    pid: child.pid,
    listening,
    exited,
    isRunning,
    output: () => output,
    cpuMs: () => cpuMs(child.pid),
    rssKiB: () => rssKiB(child.pid),
    /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
    stop: async (graceMs = 5000) => {
      if (!isRunning()) return exited
      child.kill("SIGTERM")
      const killer = setTimeout(() => child.kill("SIGKILL"), graceMs)
      const status = await exited
      clearTimeout(killer)
      return status
    }
  }
}

/** Spawns a server and waits until it listens; stops it again if it never does. */
export const startServer = async (options) => {
  const server = spawnServer({ ...options, port: await freePort() })
  try {
    const port = await server.listening
    return { ...server, port }
  } catch (error) {
    await server.stop()
    throw error
  }
}
