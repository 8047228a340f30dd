/**
 * One load-generator process. The runner forks one per ~10,000 clients (a process holds at most
 * the fd limit of sockets) and drives it over IPC: `open`, `report`, `close`.
 *
 * Run by hand it is a small command-line client, which also lets a test exercise the generator:
 *
 *   node scripts/bench/loadWorker.mjs --port 3000 --clients 10 --seconds 2
 *
 * prints one JSON line: how many opened, were refused or failed, and the report (per-client
 * sequence checks and, per integer, first and last receipt).
 */
import { parseArgs } from "node:util"
import { ClientFleet } from "./clientFleet.mjs"
import { sleep } from "./clock.mjs"

const driven = async () => {
  let fleet
  process.on("message", async ({ command, id, ...options }) => {
    try {
      let result
      if (command === "start") {
        fleet = new ClientFleet(/** @type {any} */ (options))
        result = { pid: process.pid }
      } else if (command === "open") result = await fleet.open(options.count, options.concurrency)
      else if (command === "report") result = fleet.report()
      else if (command === "close") result = fleet.destroy()
      else throw new Error(`unknown command ${command}`)
      process.send?.({ id, result })
    } catch (error) {
      process.send?.({ id, error: String(error instanceof Error ? error.stack : error) })
    }
  })
  // The runner is gone (finished or crashed): so is the point of these sockets.
  process.on("disconnect", () => {
    fleet?.destroy()
    process.exit(0)
  })
}

const commandLine = async () => {
  const { values } = parseArgs({
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string" },
      path: { type: "string", default: "/_ws/bench" },
      clients: { type: "string", default: "10" },
      concurrency: { type: "string", default: "100" },
      seconds: { type: "string", default: "2" }
    }
  })
  if (values.port === undefined) throw new Error("--port is required")
  const fleet = new ClientFleet({ host: values.host, port: Number(values.port), path: values.path })
  const opened = await fleet.open(Number(values.clients), Number(values.concurrency))
  await sleep(Number(values.seconds) * 1000)
  const report = fleet.report()
  fleet.destroy()
  process.stdout.write(JSON.stringify({ opened, report }) + "\n")
}

if (process.send !== undefined) await driven()
else await commandLine()
