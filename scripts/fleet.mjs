/**
 * `npm run fleet`: a local fleet in one command, as docs/scaling.md describes it (localFleet.mjs):
 * a redis-server, N instances of the built service on it and HAProxy in front at its defaults, on
 * free ports of 127.0.0.1. It prints where to connect and each instance's PID; an instance stopped
 * with SIGTERM (a rolling restart, by hand) is started again on its port once it exits. Ctrl-C (or
 * SIGTERM to the fleet) stops the instances, then HAProxy and Redis, and exits 0.
 *
 *   npm run fleet                    three instances
 *   npm run fleet -- --instances 5   five
 */
import { parseArgs } from "node:util"
import { startLocalFleet } from "./localFleet.mjs"

const { values } = parseArgs({ options: { instances: { type: "string", default: "3" } } })
const count = Number(values.instances)
if (!Number.isInteger(count) || count < 1 || count > 16) {
  console.error(`--instances must be a whole number from 1 to 16, not ${values.instances}`)
  process.exit(2)
}

const say = (line) => console.log(`[fleet] ${line}`)
const starting = startLocalFleet({
  instances: count,
  // Their output goes through the fleet: pretty when the fleet's own is a terminal.
  env: { LOG_FORMAT: process.env.LOG_FORMAT ?? (process.stdout.isTTY ? "pretty" : "json") },
  output: (name, line) => console.log(`[${name}] ${line}`),
  say
})
let stopping = false
const stopAll = async (code) => {
  if (stopping) return
  stopping = true
  say("stopping: the instances drain, then HAProxy and Redis stop")
  // A Ctrl-C while the fleet comes up stops it once it is up (a failed start stopped itself).
  await (await starting.catch(() => undefined))?.stop()
  say("stopped")
  process.exit(code)
}
process.on("SIGINT", () => stopAll(0))
process.on("SIGTERM", () => stopAll(0))

const fleet = await starting.catch((error) => {
  console.error(`[fleet] ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
const proxy = fleet.proxies[0]
const lines = [
  `up: ${count} instance${count === 1 ? "" : "s"} on redis://127.0.0.1:${fleet.redis.port}, behind HAProxy`,
  `connect: websocat ws://127.0.0.1:${proxy.port}/_ws/   (a browser: http://127.0.0.1:${proxy.port}/)`,
  ...fleet.ports.map((port, i) => `forge${i + 1} is pid ${fleet.instance(i).pid}, port ${port}`),
  `redis is pid ${fleet.redis.pid}, port ${fleet.redis.port}; haproxy pid ${proxy.pid}, port ${proxy.port}`,
  "restart one: kill -TERM <its pid> (it drains, and the fleet starts it again); Ctrl-C stops all"
]
for (const line of lines) say(line)
