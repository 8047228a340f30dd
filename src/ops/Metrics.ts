/**
 * What an operator scrapes at `GET /metrics`, in the Prometheus text format written by
 * `prom-client`. Values the forge already holds are read at scrape time; the fan-out adds one
 * count per tick, never per socket.
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
  /** A round of rebalancing that closed `count` connections for their clients to move. */
  readonly handedOver: (count: number) => void
  readonly render: Effect.Effect<{ readonly body: string; readonly contentType: string }>
}>() {
  static readonly layer = Layer.effect(Metrics, Effect.suspend(() => make))
}

const registerForgeMetrics = (registers: Array<Prometheus.Registry>, forgeStatus: () => ForgeStatus) => {
  const gauge = (name: string, help: string, value: (status: ForgeStatus) => number) =>
    new Prometheus.Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(value(forgeStatus()))
      }
    })
  new Prometheus.Counter({
    name: "forge_integers_forged_total",
    help:
      "The last integer forged: by this process, or across the cluster with the shared forge (REDIS_URL or VIP_REDIS_PRIMARY)",
    registers,
    collect() {
      this.reset()
      this.inc(forgeStatus().last)
    }
  })
  gauge("forge_running", "1 while the forge ticks (someone is connected), else 0", (status) => status.running ? 1 : 0)
  gauge("forge_current_integer", "The last integer forged", (status) => status.last)
  if (forgeStatus().shared === undefined) return
  gauge(
    "forge_leader",
    "1 while this instance holds the shared forge's lease in Redis and forges",
    (status) => status.shared?.leader ? 1 : 0
  )
  gauge(
    "forge_redis_reachable",
    "1 while Redis answers this instance, 0 during an outage (integers pause)",
    (status) => status.shared?.redisReachable ? 1 : 0
  )
}

const make = Effect.gen(function*() {
  const forge = yield* IntegerForge
  // Each server has a registry of its own: tests run several servers in one process.
  const register = new Prometheus.Registry()
  const registers = [register]
  Prometheus.collectDefaultMetrics({ register })
  const open = new Prometheus.Gauge({
    name: "forge_connections_open",
    help: "Connections open now (WebSocket, Socket.IO and event streams), by protocol",
    labelNames: ["protocol"] as const,
    registers
  })
  const opened = new Prometheus.Counter({
    name: "forge_connections_opened_total",
    help: "Connections accepted (WebSocket, Socket.IO and event streams), by protocol",
    labelNames: ["protocol"] as const,
    registers
  })
  const closed = new Prometheus.Counter({
    name: "forge_connections_closed_total",
    help: `Connections closed (event streams included), by close code (${closeCodes.abnormal}: no close frame)`,
    labelNames: ["code"] as const,
    registers
  })
  const refused = new Prometheus.Counter({
    name: "forge_upgrades_refused_total",
    help: "WebSocket upgrades refused, by reason",
    labelNames: ["reason"] as const,
    registers
  })
  const sent = new Prometheus.Counter({
    name: "forge_messages_sent_total",
    help: "Integer frames written to sockets",
    registers
  })
  const slow = new Prometheus.Counter({
    name: "forge_slow_consumer_disconnects_total",
    help: "Sockets closed because their unsent data passed MAX_BUFFERED_BYTES",
    registers
  })
  const rounds = new Prometheus.Counter({
    name: "forge_rebalance_rounds_total",
    help: "Rounds in which this instance, above its share, handed connections over to the others",
    registers
  })
  const handed = new Prometheus.Counter({
    name: "forge_rebalance_handed_over_total",
    help: "Connections this instance closed with 1012 for their clients to move to others while rebalancing",
    registers
  })
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
    handedOver: (count: number) => {
      rounds.inc()
      handed.inc(count)
    },
    render: Effect.promise(() => register.metrics()).pipe(
      Effect.map((body) => ({ body, contentType: register.contentType }))
    )
  }
})
