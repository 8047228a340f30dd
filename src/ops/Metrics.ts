/**
 * What an operator scrapes at `GET /metrics`, in the Prometheus text format written by
 * `prom-client`. Each server instance has a registry of its own (tests run several in one
 * process). Values that already exist elsewhere (the forge's state) are read at scrape time, so
 * keeping them costs nothing in between; the fan-out adds one count per tick, never per socket.
 */
import { Context, Effect, Layer } from "effect"
import * as Prometheus from "prom-client"
import { type ForgeStatus, IntegerForge } from "../forge/IntegerForge.js"
import { closeCodes } from "../wire/CloseCodes.js"

export type Protocol = "plain" | "socket.io" | "sse"

export class Metrics extends Context.Tag("IntegerForge/Metrics")<Metrics, {
  readonly connectionOpened: (protocol: Protocol) => void
  readonly connectionClosed: (protocol: Protocol, code: number, serverReason: string | undefined) => void
  readonly upgradeRefused: (reason: string) => void
  /** Frames written by one pass of the fan-out, counted once for the whole pass. */
  readonly messagesSent: (count: number) => void
  /** The exposition, and its content type. */
  readonly render: Effect.Effect<{ readonly body: string; readonly contentType: string }>
}>() {
  static readonly layer = Layer.effect(Metrics, Effect.suspend(() => make))
}

/** Metrics read from the forge when scraped: nothing to keep up to date in between. */
const forgeMetrics: ReadonlyArray<{
  readonly name: string
  readonly help: string
  readonly type: "counter" | "gauge"
  /** Only where the forge is shared through Redis. */
  readonly sharedOnly?: true
  readonly value: (status: ForgeStatus) => number
}> = [
  {
    name: "forge_integers_forged_total",
    help:
      "The last integer forged: by this process, or across the cluster with the shared forge (REDIS_URL or VIP_REDIS_PRIMARY)",
    type: "counter",
    value: (status) => status.last
  },
  {
    name: "forge_running",
    help: "1 while the forge ticks (someone is connected), else 0",
    type: "gauge",
    value: (status) => status.running ? 1 : 0
  },
  { name: "forge_current_integer", help: "The last integer forged", type: "gauge", value: (status) => status.last },
  {
    name: "forge_leader",
    help: "1 while this instance holds the shared forge's lease in Redis and forges",
    type: "gauge",
    sharedOnly: true,
    value: (status) => status.shared?.leader ? 1 : 0
  },
  {
    name: "forge_redis_reachable",
    help: "1 while Redis answers this instance, 0 during an outage (integers pause)",
    type: "gauge",
    sharedOnly: true,
    value: (status) => status.shared?.redisReachable ? 1 : 0
  }
]

const registerForgeMetrics = (registers: Array<Prometheus.Registry>, forgeStatus: () => ForgeStatus) => {
  const shared = forgeStatus().shared !== undefined
  for (const metric of forgeMetrics) {
    if (metric.sharedOnly && !shared) continue
    const { help, name, value } = metric
    if (metric.type === "counter") {
      new Prometheus.Counter({
        name,
        help,
        registers,
        collect() {
          this.reset()
          this.inc(value(forgeStatus()))
        }
      })
    } else {
      new Prometheus.Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(value(forgeStatus()))
        }
      })
    }
  }
}

/** Metrics the other layers bump as things happen. */
const eventMetrics = (registers: Array<Prometheus.Registry>) => ({
  open: new Prometheus.Gauge({
    name: "forge_connections_open",
    help: "Connections open now (WebSocket, Socket.IO and event streams), by protocol",
    labelNames: ["protocol"] as const,
    registers
  }),
  opened: new Prometheus.Counter({
    name: "forge_connections_opened_total",
    help: "Connections accepted (WebSocket, Socket.IO and event streams), by protocol",
    labelNames: ["protocol"] as const,
    registers
  }),
  closed: new Prometheus.Counter({
    name: "forge_connections_closed_total",
    help: `Connections closed (event streams included), by close code (${closeCodes.abnormal}: no close frame)`,
    labelNames: ["code"] as const,
    registers
  }),
  refused: new Prometheus.Counter({
    name: "forge_upgrades_refused_total",
    help: "WebSocket upgrades refused, by reason",
    labelNames: ["reason"] as const,
    registers
  }),
  sent: new Prometheus.Counter({
    name: "forge_messages_sent_total",
    help: "Integer frames written to sockets",
    registers
  }),
  slow: new Prometheus.Counter({
    name: "forge_slow_consumer_disconnects_total",
    help: "Sockets closed because their unsent data passed MAX_BUFFERED_BYTES",
    registers
  })
})

const make = Effect.gen(function*() {
  const forge = yield* IntegerForge
  // Each server has a registry of its own: tests run several servers in one process.
  const register = new Prometheus.Registry()
  const registers = [register]
  Prometheus.collectDefaultMetrics({ register })
  const { closed, open, opened, refused, sent, slow } = eventMetrics(registers)
  registerForgeMetrics(registers, forge.statusNow)
  for (const protocol of ["plain", "socket.io", "sse"] as const) open.set({ protocol }, 0)

  return {
    connectionOpened: (protocol: Protocol) => {
      open.inc({ protocol })
      opened.inc({ protocol })
    },
    connectionClosed: (protocol: Protocol, code: number, serverReason: string | undefined) => {
      open.dec({ protocol })
      closed.inc({ code: String(code) })
      if (serverReason === "slow-consumer") slow.inc()
    },
    upgradeRefused: (reason: string) => refused.inc({ reason }),
    messagesSent: (count: number) => sent.inc(count),
    render: Effect.gen(function*() {
      const body = yield* Effect.promise(() => register.metrics())
      return { body, contentType: register.contentType }
    })
  }
})
