/**
 * What an operator scrapes at `GET /metrics`, in the Prometheus text format written by
 * `prom-client`. Each server instance has a registry of its own (tests run several in one
 * process). Values that already exist elsewhere (the forge's state) are read at scrape time, so
 * keeping them costs nothing in between; the fan-out adds one count per tick, never per socket.
 */
import { Context, Effect, Layer } from "effect"
import * as Prometheus from "prom-client"
import { IntegerForge } from "../forge/IntegerForge.js"
import { closeCodes } from "../wire/CloseCodes.js"

export type Protocol = "plain" | "socket.io"

export class Metrics extends Context.Tag("IntegerForge/Metrics")<Metrics, {
  readonly connectionOpened: (protocol: Protocol) => void
  readonly connectionClosed: (protocol: Protocol, code: number, serverReason: string | undefined) => void
  readonly upgradeRefused: (reason: string) => void
  /** Frames written by one pass of the fan-out, counted once for the whole pass. */
  readonly messagesSent: (count: number) => void
  /** The exposition, and its content type. */
  readonly render: Effect.Effect<{ readonly body: string; readonly contentType: string }>
}>() {
  static readonly layer = Layer.effect(
    Metrics,
    Effect.gen(function*() {
      const forge = yield* IntegerForge
      const forgeStatus = () => Effect.runSync(forge.status)
      const register = new Prometheus.Registry()
      const registers = [register]
      Prometheus.collectDefaultMetrics({ register })

      const open = new Prometheus.Gauge({
        name: "forge_connections_open",
        help: "WebSocket connections open now, by protocol",
        labelNames: ["protocol"] as const,
        registers
      })
      const opened = new Prometheus.Counter({
        name: "forge_connections_opened_total",
        help: "WebSocket connections accepted, by protocol",
        labelNames: ["protocol"] as const,
        registers
      })
      const closed = new Prometheus.Counter({
        name: "forge_connections_closed_total",
        help: `WebSocket connections closed, by close code (${closeCodes.abnormal}: no close frame)`,
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
      new Prometheus.Counter({
        name: "forge_integers_forged_total",
        help: "The last integer forged: by this process, or across the cluster with REDIS_URL",
        registers,
        collect() {
          this.reset()
          this.inc(forgeStatus().last)
        }
      })
      new Prometheus.Gauge({
        name: "forge_running",
        help: "1 while the forge ticks (someone is connected), else 0",
        registers,
        collect() {
          this.set(forgeStatus().running ? 1 : 0)
        }
      })
      new Prometheus.Gauge({
        name: "forge_current_integer",
        help: "The last integer forged",
        registers,
        collect() {
          this.set(forgeStatus().last)
        }
      })
      if (forgeStatus().shared !== undefined) {
        new Prometheus.Gauge({
          name: "forge_leader",
          help: "1 while this instance holds the shared forge's lease in Redis and forges",
          registers,
          collect() {
            this.set(forgeStatus().shared?.leader ? 1 : 0)
          }
        })
        new Prometheus.Gauge({
          name: "forge_redis_reachable",
          help: "1 while Redis answers this instance, 0 during an outage (integers pause)",
          registers,
          collect() {
            this.set(forgeStatus().shared?.redisReachable ? 1 : 0)
          }
        })
      }
      for (const protocol of ["plain", "socket.io"] as const) open.set({ protocol }, 0)

      return {
        connectionOpened: (protocol) => {
          open.inc({ protocol })
          opened.inc({ protocol })
        },
        connectionClosed: (protocol, code, serverReason) => {
          open.dec({ protocol })
          closed.inc({ code: String(code) })
          if (serverReason === "slow-consumer") slow.inc()
        },
        upgradeRefused: (reason) => refused.inc({ reason }),
        messagesSent: (count) => sent.inc(count),
        render: Effect.promise(() => register.metrics()).pipe(
          Effect.map((body) => ({ body, contentType: register.contentType }))
        )
      }
    })
  )
}
