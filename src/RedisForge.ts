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
 * - Redis out of reach: the script fails, integers pause, the instance logs it (once a second at
 *   most) and `forge_redis_reachable` drops to 0; clients stay connected. A Redis that comes back
 *   empty (it keeps nothing on disk) cannot make the sequence repeat: the script is given the
 *   highest integer this instance has seen and never forges one at or below it.
 */
import { Config, Context, Duration, Effect, Layer, Option, PubSub, RcRef, Ref, Runtime } from "effect"
import { Redis } from "ioredis"
import { randomBytes } from "node:crypto"
import { ForgeConfig } from "./Config.js"
import { IntegerForge } from "./IntegerForge.js"
import { everyInterval } from "./Ticker.js"

/** Where the shared forge lives. Present only when `REDIS_URL` is set. */
export class RedisConfig extends Context.Tag("IntegerForge/RedisConfig")<RedisConfig, {
  readonly url: string
  /** How long a leader's lease lasts without renewal: the longest pause a leader's death causes. */
  readonly leaseMs: number
  /** Prefix of every key and channel, so that several services can share one Redis. */
  readonly prefix: string
}>() {
  static readonly fromEnv = Config.all({
    url: Config.string("REDIS_URL").pipe(Config.option),
    leaseMs: Config.integer("FORGE_LEASE_MS").pipe(
      Config.validate({ message: "Expected a whole number of milliseconds from 100", validation: (n) => n >= 100 }),
      Config.withDefault(3000)
    ),
    prefix: Config.string("REDIS_PREFIX").pipe(Config.withDefault("integer-forge"))
  })
}

const forgeScript = `
local leader = redis.call('GET', KEYS[1])
if not leader then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  leader = ARGV[1]
elseif leader == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if leader ~= ARGV[1] then return -1 end
local n = redis.call('INCR', KEYS[2])
local floor = tonumber(ARGV[4])
if n <= floor then
  n = floor + 1
  redis.call('SET', KEYS[2], n)
end
redis.call('PUBLISH', ARGV[3], n)
return n
`

const releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`

export const layer = (redis: Context.Tag.Service<RedisConfig>) =>
  Layer.scoped(
    IntegerForge,
    Effect.gen(function*() {
      const { bufferCapacity, intervalMs } = yield* ForgeConfig
      const runSync = Runtime.runSync(yield* Effect.runtime<never>())
      const me = randomBytes(8).toString("hex")
      const keys = { leader: `${redis.prefix}:leader`, counter: `${redis.prefix}:counter` }
      const channel = `${redis.prefix}:integers`
      // A lease shorter than the interval would lapse between two renewals.
      const leaseMs = Math.max(redis.leaseMs, intervalMs * 3)

      const connect = (role: string, options: { readonly enableOfflineQueue: boolean }) =>
        Effect.acquireRelease(
          Effect.sync(() => {
            const client = new Redis(redis.url, {
              ...options,
              connectionName: `integer-forge-${role}-${me}`,
              maxRetriesPerRequest: 1,
              retryStrategy: (times) => Math.min(times * 100, 1000)
            })
            // Connection errors are reported by the failing commands and the reachability flag.
            client.on("error", () => {})
            return client
          }),
          (client) => Effect.sync(() => client.disconnect())
        )
      // Commands fail at once while Redis is away, instead of queueing behind the outage.
      const commands = yield* connect("commands", { enableOfflineQueue: false })
      const subscriber = yield* connect("subscriber", { enableOfflineQueue: true })

      const pubsub = yield* Effect.acquireRelease(PubSub.sliding<number>(bufferCapacity), PubSub.shutdown)
      let last = 0
      let leader = false
      const running = yield* Ref.make(false)
      const subscribers = yield* Ref.make(0)

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

      let lastWarning = 0
      const unreachable = (error: unknown) =>
        Effect.suspend(() => {
          leader = false
          const now = Date.now()
          if (now - lastWarning < 1000) return Effect.void
          lastWarning = now
          return Effect.logWarning("Redis unreachable: integers paused until it answers").pipe(
            Effect.annotateLogs({ error: error instanceof Error ? error.message : String(error) })
          )
        })

      const attempt = Effect.tryPromise(() =>
        commands.eval(forgeScript, 2, keys.leader, keys.counter, me, String(leaseMs), channel, String(last))
      ).pipe(
        Effect.timeout(Duration.millis(Math.max(intervalMs, 250))),
        Effect.flatMap((result) => {
          const n = Number(result)
          const was = leader
          leader = n > 0
          // The leader hears its own integer through the channel like everyone else; taking
          // it here too spares it a round trip, and `hear` ignores the echo.
          if (n > 0) hear(n)
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

      const participation = yield* RcRef.make({
        acquire: Effect.acquireRelease(Ref.set(running, true), () =>
          Ref.set(running, false).pipe(Effect.zipRight(release))).pipe(
            Effect.zipRight(Effect.forkScoped(everyInterval(intervalMs, attempt))),
            Effect.asVoid
          )
      })

      const subscribe = Effect.gen(function*() {
        const dequeue = yield* PubSub.subscribe(pubsub)
        yield* Effect.acquireRelease(
          Ref.update(subscribers, (n) =>
            n + 1),
          () => Ref.update(subscribers, (n) => n - 1)
        )
        yield* RcRef.get(participation)
        return dequeue
      })

      const status = Effect.all({ running: Ref.get(running), subscribers: Ref.get(subscribers) }).pipe(
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
