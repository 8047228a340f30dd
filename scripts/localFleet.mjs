/**
 * A local fleet: a redis-server, N instances of the built service on it (the shared forge) and
 * HAProxy in front at its defaults (one process, or several for more clients than one may hold),
 * all on free ports of 127.0.0.1. An instance that exits while the fleet is up is started again
 * on its port, as a supervisor would. Used by `npm run fleet` (fleet.mjs) and the deploy drill at
 * scale (scaleDrill.mjs).
 */
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as Net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { freePort } from "./bench/serverProcess.mjs"
import { haproxyConfig } from "./haproxyConfig.mjs"

const service = fileURLToPath(new URL("../dist/main.cjs", import.meta.url))

/** The first of `candidates` that exists; else an error saying how to install it. */
const program = (candidates, install) => {
  const found = candidates.find((path) => existsSync(path))
  if (found === undefined) throw new Error(`${candidates[0]} is missing: ${install}`)
  return found
}

/** Resolves once something accepts connections on `port`, or rejects after 10 s. */
export const accepting = (port, what) =>
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

/** Sends `signal` to `child` and resolves with its exit code (or signal) once it has exited. */
const stop = (child, signal) =>
  new Promise((resolve) => {
    if (child === undefined) return resolve(undefined)
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode ?? child.signalCode)
    child.once("exit", (code, exitSignal) => resolve(code ?? exitSignal))
    child.kill(signal)
  })

// An instance that exits sooner than this after its start would only exit again: it stays down.
const crashLoopMs = 2000

/**
 * Starts the fleet. `output(name, line)` receives every line the processes print; `say(line)`
 * what the fleet itself reports. Children run in process groups of their own, so that a
 * terminal's Ctrl-C reaches the fleet only, which stops them in order (`stop`).
 *
 * @param {{ instances: number, proxies?: number, env?: Record<string, string>,
 *   output: (name: string, line: string) => void, say: (line: string) => void }} options
 */
export const startLocalFleet = async ({ env = {}, instances: count, output, proxies: proxyCount = 1, say }) => {
  if (!existsSync(service)) throw new Error("dist/main.cjs is missing: run `npm run build` first")
  const redisServer = program(
    ["/usr/bin/redis-server", "/usr/local/bin/redis-server"],
    "apt-get install -y redis-server"
  )
  const haproxy = program(["/usr/sbin/haproxy", "/usr/bin/haproxy"], "apt-get install -y haproxy")
  let stopping = false
  /** @type {Array<import("node:child_process").ChildProcess>} */
  const instances = []
  /** @type {Array<import("node:child_process").ChildProcess>} */
  const proxies = []
  /** @type {import("node:child_process").ChildProcess | undefined} */
  let redis
  /** Every instance process that has exited: its name, PID and exit code (or signal). */
  const exits = []
  const configDir = mkdtempSync(join(tmpdir(), "integer-forge-fleet-"))

  /** The last lines each process printed, for saying why one would not start. */
  const recent = new Map()
  const start = (name, command, args, extraEnv = {}) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...extraEnv },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true
    })
    for (const stream of [child.stdout, child.stderr]) {
      let rest = ""
      stream.setEncoding("utf8")
      stream.on("data", (chunk) => {
        const lines = (rest + chunk).split("\n")
        rest = lines.pop() ?? ""
        for (const line of lines) output(name, line)
        recent.set(name, [...(recent.get(name) ?? []), ...lines].slice(-5))
      })
    }
    return child
  }

  const redisPort = await freePort()
  const ports = await Promise.all(Array.from({ length: count }, freePort))
  const proxyPorts = await Promise.all(Array.from({ length: proxyCount }, freePort))

  /** Runs instance `i` on its port, and again each time it exits while the fleet is up. */
  const runInstance = (i) => {
    const name = `forge${i + 1}`
    const startedAt = Date.now()
    const child = start(name, process.execPath, [service], {
      HOST: "127.0.0.1",
      PORT: String(ports[i]),
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      ...env
    })
    instances[i] = child
    child.once("exit", (code, signal) => {
      exits.push({ name, pid: child.pid, code: code ?? signal })
      if (stopping) return
      const how = `${name} (pid ${child.pid}) exited with ${signal ?? code}`
      if (Date.now() - startedAt < crashLoopMs) {
        return say(`${how} right after its start; left down. It said:\n${(recent.get(name) ?? []).join("\n")}`)
      }
      say(`${how}; starting it again`)
      runInstance(i)
      accepting(ports[i], name).then(() => say(`${name} is pid ${instances[i]?.pid} again`), () => {})
    })
  }

  const stopAll = async () => {
    stopping = true
    await Promise.all(instances.map((child) => stop(child, "SIGTERM")))
    await Promise.all([...proxies.map((proxy) => stop(proxy, "SIGTERM")), stop(redis, "SIGTERM")])
    rmSync(configDir, { recursive: true, force: true })
  }

  try {
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
    ports.forEach((_, i) => runInstance(i))
    await Promise.all(ports.map((port, i) => accepting(port, `forge${i + 1}`)))
    proxyPorts.forEach((port, k) => {
      const config = join(configDir, `haproxy${k + 1}.cfg`)
      writeFileSync(config, haproxyConfig(port, ports))
      // -db: in the foreground, so that the PID the fleet stops is HAProxy's own.
      proxies.push(start(proxyCount === 1 ? "haproxy" : `haproxy${k + 1}`, haproxy, ["-db", "-f", config]))
    })
    await Promise.all(proxyPorts.map((port) => accepting(port, "haproxy")))
  } catch (error) {
    await stopAll()
    throw error
  }

  return {
    redis: { pid: redis.pid, port: redisPort },
    ports,
    proxies: proxies.map((proxy, k) => ({ pid: proxy.pid, port: proxyPorts[k] })),
    /** The process running instance `i` now. */
    instance: (i) => instances[i],
    exits,
    /**
     * A restart of instance `i` as a deploy does it: SIGTERM, and once it has exited (drained) the
     * fleet starts it again; resolves with its exit code once the new one accepts connections.
     */
    restart: async (i) => {
      const old = instances[i]
      const code = await stop(old, "SIGTERM")
      while (instances[i] === old) await new Promise((resolve) => setTimeout(resolve, 20))
      await accepting(ports[i], `forge${i + 1}`)
      return code
    },
    /** Stops the instances (they drain), then HAProxy and Redis. */
    stop: stopAll
  }
}
