/**
 * The forge shared by every instance of the service, through Redis. Same interface as the
 * in-process forge: the registry and the sockets cannot tell them apart.
 *
 * - Every instance holds one Redis subscription to the integers channel, always, and relays what
 *   it hears into its local PubSub: one Redis subscription per instance, not per socket.
 * - An instance with local subscribers takes part: once per interval it runs one Lua script that
 *   renews (or takes) a lease in Redis and, only if this instance holds the lease, increments
 *   the counter and publishes the new integer. Redis runs the script atomically, so two
 *   instances that both believe they lead can never forge the same integer, and an integer is
 *   never counted without being published.
 * - When an instance's last local subscriber leaves it gives the lease back; when nobody is
 *   connected anywhere, nobody runs the script and forging stops. A dead leader's lease runs out
 *   after `FORGE_LEASE_MS` and the next instance with clients takes over.
 * - Redis out of reach: the script fails, integers pause, the instance logs it (once per outage)
 *   and `forge_redis_reachable` drops to 0; clients stay connected. A Redis that comes back
 *   empty (it keeps nothing on disk) cannot make the sequence repeat: the script is given the
 *   highest integer this instance has seen and never forges one at or below it.
 */
import { Duration, Effect, Layer, Option, PubSub, Runtime } from "effect"
import { Redis } from "ioredis"
import { randomBytes } from "node:crypto"
import { ForgeConfig } from "../Config.js"
import { makeDemandDrivenPubSub } from "./DemandDrivenPubSub.js"
import { IntegerForge } from "./IntegerForge.js"
import { everyInterval } from "./Ticker.js"

// Every instance that takes part raises the counter to the highest integer it has seen, leader
// or not: a Redis that restarted empty is brought back up to the sequence within one interval,
// whichever instance happens to take the lease first.
const forgeScript = `
local floor = tonumber(ARGV[4])
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if current < floor then redis.call('SET', KEYS[2], floor) end
local leader = redis.call('GET', KEYS[1])
if not leader then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  leader = ARGV[1]
elseif leader == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if leader ~= ARGV[1] then return -1 end
local n = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[3], n)
return n
`

export interface SharedForgeSettings {
  readonly url: string
  readonly leaseMs: number
  readonly prefix: string
}

/** The Redis URL without its credentials, for the log. */
const redactedUrl = (url: string): string => {
  try {
    const parsed = new URL(url)
    parsed.username = ""
    parsed.password = ""
    return parsed.href
  } catch {
    return "(unparseable URL)"
  }
}

const releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`

export const layer = (redis: SharedForgeSettings) =>
  Layer.scoped(
    IntegerForge,
    Effect.gen(function*() {
      const { bufferCapacity, intervalMs } = yield* ForgeConfig
      yield* Effect.logInfo("forge: shared through Redis").pipe(
        Effect.annotateLogs({ redis: redactedUrl(redis.url), prefix: redis.prefix })
      )
      const runSync = Runtime.runSync(yield* Effect.runtime<never>())
      const me = randomBytes(8).toString("hex")
      const keys = { leader: `${redis.prefix}:leader`, counter: `${redis.prefix}:counter` }
      const channel = `${redis.prefix}:integers`
      // A lease shorter than the interval would lapse between two renewals.
      const leaseMs = Math.max(redis.leaseMs, intervalMs * 3)

      const connect = (
        role: string,
        options: { readonly enableOfflineQueue: boolean; readonly maxRetriesPerRequest: number | null }
      ) =>
        Effect.acquireRelease(
          Effect.sync(() => {
            const client = new Redis(redis.url, {
              ...options,
              connectionName: `integer-forge-${role}-${me}`,
              retryStrategy: (times) => Math.min(times * 100, 1000)
            })
            // Connection errors are reported by the failing commands and the reachability flag.
            client.on("error", () => {})
            return client
          }),
          (client) => Effect.sync(() => client.disconnect())
        )
      // Commands fail at once while Redis is away, instead of queueing behind the outage.
      const commands = yield* connect("commands", { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
      // The subscription waits for Redis however long it takes (an instance may start during an
      // outage), and ioredis subscribes again after every reconnect.
      const subscriber = yield* connect("subscriber", { enableOfflineQueue: true, maxRetriesPerRequest: null })

      let last = 0
      let leader = false
      // Taking part runs while this instance has subscribers; leaving gives the lease back.
      const { pubsub, running, subscribe, subscribers } = yield* makeDemandDrivenPubSub({
        capacity: bufferCapacity,
        worker: () =>
          Effect.addFinalizer(() => release).pipe(
            Effect.zipRight(Effect.forkScoped(everyInterval(intervalMs, attempt))),
            Effect.asVoid
          )
      })

      const hear = (n: number) => {
        if (!Number.isSafeInteger(n) || n <= last) return
        last = n
        runSync(PubSub.publish(pubsub, n))
      }
      subscriber.on("message", (from: string, message: string) => {
        if (from === channel) hear(Number(message))
      })
      // Not awaited: during an outage the service still starts, and ioredis subscribes (and
      // resubscribes after every reconnect) as soon as Redis answers.
      subscriber.subscribe(channel).catch(() => undefined)
      // Start from the counter when Redis is there within a moment, so that this instance's
      // floor (and its replay range) is right from its first client on.
      yield* Effect.async<void>((resume) => {
        if (commands.status === "ready") return resume(Effect.void)
        commands.once("ready", () => resume(Effect.void))
      }).pipe(Effect.timeout(Duration.seconds(2)), Effect.ignore)
      const seed = yield* Effect.tryPromise(() => commands.get(keys.counter)).pipe(Effect.option)
      if (Option.isSome(seed) && seed.value !== null) last = Math.max(last, Number(seed.value))

      // One line when Redis stops answering, one when it answers again: an outage is two lines
      // per instance, not one per interval.
      let outage = false
      const unreachable = (error: unknown) =>
        Effect.suspend(() => {
          leader = false
          if (outage) return Effect.void
          outage = true
          return Effect.logWarning("Redis unreachable: integers paused until it answers").pipe(
            Effect.annotateLogs({ error: error instanceof Error ? error.message : String(error) })
          )
        })
      const answered = Effect.suspend(() => {
        if (!outage) return Effect.void
        outage = false
        return Effect.logInfo("Redis answers again: integers resume")
      })

      const attempt = Effect.tryPromise({
        try: () => commands.eval(forgeScript, 2, keys.leader, keys.counter, me, String(leaseMs), channel, String(last)),
        catch: (error) => error
      }).pipe(
        Effect.timeout(Duration.millis(Math.max(intervalMs, 250))),
        Effect.tap(() => answered),
        Effect.flatMap((result) => {
          const n = Number(result)
          const was = leader
          leader = n > 0
          // The leader hears its own integers through the channel like everyone else, in the
          // order Redis published them: after a stall, several runs may answer at once, and
          // taking the latest result here would make the earlier ones look like echoes.
          return leader === was ? Effect.void : Effect.logInfo(leader ? "forge lease taken" : "forge lease lost").pipe(
            Effect.annotateLogs({ instance: me, last })
          )
        }),
        Effect.catchAll(unreachable)
      )

      const release = Effect.tryPromise(() => commands.eval(releaseScript, 1, keys.leader, me)).pipe(
        Effect.ignore,
        Effect.zipRight(Effect.sync(() => (leader = false)))
      )

      const status = Effect.all({ running, subscribers }).pipe(
        Effect.map(({ running, subscribers }) => ({
          running,
          subscribers,
          last,
          shared: { leader, redisReachable: commands.status === "ready" }
        }))
      )

      return { subscribe, status }
    })
  )
