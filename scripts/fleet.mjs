/**
 * `npm run fleet`: a local fleet in one command, as docs/scaling.md describes it: a redis-server,
 * N instances of the built service on it (the shared forge), and HAProxy in front at its defaults,
 * all on free ports of 127.0.0.1. It prints where to connect and each instance's PID; an instance
 * stopped with SIGTERM (a rolling restart, by hand) is started again on its port once it exits.
 * Ctrl-C (or SIGTERM to the fleet) stops the instances, then HAProxy and Redis, and exits 0.
 *
 *   npm run fleet                    three instances
 *   npm run fleet -- --instances 5   five
 */
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as Net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { freePort } from "./bench/serverProcess.mjs"
import { haproxyConfig } from "./haproxyConfig.mjs"

const service = fileURLToPath(new URL("../dist/main.cjs", import.meta.url))

const { values } = parseArgs({ options: { instances: { type: "string", default: "3" } } })
const count = Number(values.instances)
if (!Number.isInteger(count) || count < 1 || count > 16) {
  console.error(`--instances must be a whole number from 1 to 16, not ${values.instances}`)
  process.exit(2)
}

/** The first of `candidates` that exists, or an exit with how to install it. */
const program = (candidates, install) => {
  const found = candidates.find((path) => existsSync(path))
  if (found !== undefined) return found
  console.error(`${candidates[0]} is missing: ${install}`)
  process.exit(1)
}
if (!existsSync(service)) {
  console.error("dist/main.cjs is missing: run `npm run build` first")
  process.exit(1)
}
const redisServer = program(["/usr/bin/redis-server", "/usr/local/bin/redis-server"], "apt-get install -y redis-server")
const haproxy = program(["/usr/sbin/haproxy", "/usr/bin/haproxy"], "apt-get install -y haproxy")

/** Resolves once something accepts connections on `port`, or rejects after 10 s. */
const accepting = (port, what) =>
  new Promise((resolve, reject) => {
    const deadline = Date.now() + 10_000
    const attempt = () => {
      const socket = Net.connect({ host: "127.0.0.1", port })
      socket.once("connect", () => {
        socket.destroy()
        resolve(undefined)
      })
      socket.once("error", () => {
        if (Date.now() > deadline) reject(new Error(`${what} did not start on port ${port}`))
        else setTimeout(attempt, 50)
      })
    }
    attempt()
  })

let stopping = false
/** @type {import("node:child_process").ChildProcess | undefined} */
let redis
/** @type {import("node:child_process").ChildProcess | undefined} */
let proxy
/** @type {Array<import("node:child_process").ChildProcess>} the instances running now */
const instances = []
let configDir = ""

/** Sends `signal` to `child` and waits for it to exit. */
const stop = (child, signal) =>
  new Promise((resolve) => {
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return resolve(undefined)
    child.once("exit", resolve)
    child.kill(signal)
  })

/** Stops the instances (they drain), then HAProxy and Redis, and exits. */
const stopAll = async (code) => {
  if (stopping) return
  stopping = true
  console.log("[fleet] stopping: the instances drain, then HAProxy and Redis stop")
  await Promise.all(instances.map((child) => stop(child, "SIGTERM")))
  await Promise.all([stop(proxy, "SIGTERM"), stop(redis, "SIGTERM")])
  if (configDir !== "") rmSync(configDir, { recursive: true, force: true })
  console.log("[fleet] stopped")
  process.exit(code)
}
// From the start: a Ctrl-C while the fleet comes up stops what has started.
process.on("SIGINT", () => stopAll(0))
process.on("SIGTERM", () => stopAll(0))

/**
 * Starts a child, its output lines printed with its name in front. In a process group of its own,
 * so that a terminal's Ctrl-C reaches the fleet only, which stops the children in order.
 */
const start = (name, command, args, env = {}) => {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true
  })
  for (const stream of [child.stdout, child.stderr]) {
    let rest = ""
    stream.setEncoding("utf8")
    stream.on("data", (chunk) => {
      const lines = (rest + chunk).split("\n")
      rest = lines.pop() ?? ""
      for (const line of lines) console.log(`[${name}] ${line}`)
    })
  }
  return child
}

// An instance that exits sooner than this after its start would only exit again: it stays down.
const crashLoopMs = 2000

/** Runs instance `i` on its port, and again each time it exits while the fleet is up. */
const runInstance = (i, ports, redisPort) => {
  const name = `forge${i + 1}`
  const startedAt = Date.now()
  const child = start(name, process.execPath, [service], {
    HOST: "127.0.0.1",
    PORT: String(ports[i]),
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    // Their output goes through the fleet: pretty when the fleet's own is a terminal.
    LOG_FORMAT: process.env.LOG_FORMAT ?? (process.stdout.isTTY ? "pretty" : "json")
  })
  instances[i] = child
  child.once("exit", (code, signal) => {
    if (stopping) return
    const how = `${name} (pid ${child.pid}) exited with ${signal ?? code}`
    if (Date.now() - startedAt < crashLoopMs) return console.log(`[fleet] ${how} right after its start; left down`)
    console.log(`[fleet] ${how}; starting it again`)
    runInstance(i, ports, redisPort)
    accepting(ports[i], name).then(() => console.log(`[fleet] ${name} is pid ${instances[i]?.pid} again`), () => {})
  })
}

const up = async () => {
  const redisPort = await freePort()
  redis = start("redis", redisServer, [
    "--port",
    String(redisPort),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no"
  ])
  await accepting(redisPort, "redis-server")
  const ports = await Promise.all(Array.from({ length: count }, freePort))
  ports.forEach((_, i) => runInstance(i, ports, redisPort))
  await Promise.all(ports.map((port, i) => accepting(port, `forge${i + 1}`)))
  const proxyPort = await freePort()
  configDir = mkdtempSync(join(tmpdir(), "integer-forge-fleet-"))
  writeFileSync(join(configDir, "haproxy.cfg"), haproxyConfig(proxyPort, ports))
  // -db: in the foreground, so that the PID the fleet stops is HAProxy's own.
  proxy = start("haproxy", haproxy, ["-db", "-f", join(configDir, "haproxy.cfg")])
  await accepting(proxyPort, "haproxy")
  console.log(
    [
      `[fleet] up: ${count} instance${count === 1 ? "" : "s"} on redis://127.0.0.1:${redisPort}, behind HAProxy`,
      `[fleet] connect: websocat ws://127.0.0.1:${proxyPort}/_ws/   (a browser: http://127.0.0.1:${proxyPort}/)`,
      ...instances.map((child, i) => `[fleet] forge${i + 1} is pid ${child.pid}, port ${ports[i]}`),
      `[fleet] redis is pid ${redis.pid}, port ${redisPort}; haproxy pid ${proxy.pid}, port ${proxyPort}`,
      "[fleet] restart one: kill -TERM <its pid> (it drains, and the fleet starts it again); Ctrl-C stops all"
    ].join("\n")
  )
}

up().catch((error) => {
  console.error(`[fleet] ${error instanceof Error ? error.message : String(error)}`)
  return stopAll(1)
})
