/**
 * The forge shared by every instance of the service, through Redis. Same interface as the
 * in-process forge: the registry and the sockets cannot tell them apart.
 *
 * - Every instance holds one Redis subscription to the integers channel, always, and relays what
 *   it hears into its local PubSub: one Redis subscription per instance, not per socket. What a
 *   dropped subscription missed is filled in from the consecutive sequence (`ChannelSequence`).
 * - An instance with local subscribers takes part: once per interval it reads the lease and the
 *   counter under WATCH and, in one MULTI/EXEC that Redis runs only if neither changed since,
 *   renews (or takes) the lease, increments the counter and publishes the new integer, if this
 *   instance may lead (`ForgeTransaction`, `RedisTransaction`). No Lua: Redis may forbid
 *   scripts. Two instances that both believe they lead can never forge the same integer, and an
 *   integer is never counted without being published.
 * - When an instance's last local subscriber leaves it gives the lease back, if it holds it; when
 *   nobody is connected anywhere, nobody takes part and forging stops. A dead leader's lease runs
 *   out after `FORGE_LEASE_MS` and the next instance with clients takes over.
 * - Redis out of reach: the attempt fails, integers pause, the instance logs it (`RedisOutage`)
 *   and `forge_redis_reachable` drops to 0; clients stay connected. Why it is out of reach (a
 *   refused port, a wrong password, DNS, silence) is logged from the connections' own events,
 *   from the start and with or without clients, once per change of cause. A Redis that comes back
 *   empty (it keeps nothing on disk) cannot make the sequence repeat: every attempt raises the
 *   counter to the highest integer this instance has seen before it forges above it.
 */
import { Duration, Effect, Layer, LogLevel, Option, PubSub, Redacted, Runtime } from "effect"
import type { Redis, RedisOptions } from "ioredis"
import { randomBytes } from "node:crypto"
import { ForgeConfig } from "../Config.js"
import { hear } from "./ChannelSequence.js"
import { makeDemandDrivenPubSub } from "./DemandDrivenPubSub.js"
import { leave, type RedisNames, redisNames, settle, takePart, writeCommands } from "./ForgeTransaction.js"
import { IntegerForge } from "./IntegerForge.js"
import { describeEndpoint, endpointAddress, endpointSecrets, type RedisEndpoint } from "./RedisEndpoint.js"
import {
  afterAttempt,
  afterConnectionEvent,
  type AttemptOutcome,
  type BeliefLine,
  classifyError,
  condition,
  type ConnectionEvent,
  type ConnectionRole,
  describeCause,
  initialBelief,
  initialWatch,
  lineLevel,
  withoutSecrets
} from "./RedisOutage.js"
import {
  read,
  RedisCommandFailed,
  transactionConnectionOptions,
  watching,
  type WatchingConnection,
  write
} from "./RedisTransaction.js"
import { everyInterval } from "./Ticker.js"

export interface SharedForgeSettings {
  readonly endpoint: RedisEndpoint
  readonly leaseMs: number
  readonly prefix: string
}

/**
 * How long a try to connect may go without an error and without becoming ready before it counts
 * as a timeout: short enough that a Redis that never answers is named within 2 s of the start,
 * where the client library's own connect timeout (10 s, and only until TCP connects) would not.
 */
const silenceMs = 1000

/**
 * Reports one connection's events as `ConnectionEvent`s until the returned function is called.
 * A try starts at creation and at each "reconnecting" (after its delay); it ends in an error, in
 * "ready", or in a close, which without either is a drop.
 */
const follow = (
  client: Redis,
  role: ConnectionRole,
  endpoint: RedisEndpoint,
  report: (event: ConnectionEvent) => void
) => {
  const at = endpointAddress(endpoint)
  const secrets = endpointSecrets(endpoint)
  let timer: ReturnType<typeof setTimeout> | undefined
  let ended = false
  let stopped = false
  const disarm = () => {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
  }
  const arm = (ms: number) => {
    disarm()
    ended = false
    timer = setTimeout(() => {
      timer = undefined
      if (!stopped) report({ _tag: "Silent", role, at, silentMs: silenceMs })
    }, ms)
  }
  const end = (event: ConnectionEvent) => {
    disarm()
    ended = true
    if (!stopped) report(event)
  }
  client.on("error", (error: unknown) => {
    const cause = classifyError(error, at, secrets)
    if (cause !== undefined) end({ _tag: "Failed", role, cause })
  })
  client.on("ready", () => end({ _tag: "Ready", role }))
  client.on("close", () => {
    if (!ended) end({ _tag: "Failed", role, cause: { _tag: "Dropped", at, code: undefined } })
  })
  client.on("reconnecting", (delay: unknown) => arm((typeof delay === "number" ? delay : 0) + silenceMs))
  arm(silenceMs)
  return () => {
    stopped = true
    disarm()
  }
}

/** A Redis connection for the life of the scope, named after its role in this instance. */
const connect = (
  settings: SharedForgeSettings,
  role: ConnectionRole,
  name: string,
  options: RedisOptions,
  report: (event: ConnectionEvent) => void
) =>
  Effect.acquireRelease(
    // The Redis client is loaded here, when the shared forge opens its first connection, and not
    // by the import of this module: an instance without a Redis never evaluates it (the bundle
    // keeps it behind this import; test/process/Bundle.test.ts). A client that cannot load is a
    // broken install: a defect, as a failed static import would be.
    Effect.promise(() => import("ioredis")).pipe(Effect.map(({ Redis }) => {
      const all: RedisOptions = {
        ...options,
        connectionName: name,
        retryStrategy: (times) => Math.min(times * 100, 1000)
      }
      const { endpoint } = settings
      const client = endpoint._tag === "Url"
        ? new Redis(endpoint.url, all)
        : new Redis({
          ...all,
          host: endpoint.host,
          port: endpoint.port,
          // VIP may hand over an empty password: then there is nothing to AUTH with.
          ...(Redacted.value(endpoint.password) === "" ? {} : { password: Redacted.value(endpoint.password) })
        })
      // Followed from its creation: the first try's error may come before anything else runs.
      const stop = follow(client, role, endpoint, report)
      return { client, stop }
    })),
    ({ client, stop }) =>
      Effect.sync(() => {
        stop()
        client.disconnect()
      })
  ).pipe(Effect.map(({ client }) => client))

/** Waits a moment for Redis, then reads the counter: undefined when Redis is not there yet. */
const readCounter = (commands: Redis, counter: string) =>
  Effect.async<void>((resume) => {
    if (commands.status === "ready") return resume(Effect.void)
    commands.once("ready", () => resume(Effect.void))
  }).pipe(
    Effect.timeout(Duration.seconds(2)),
    Effect.ignore,
    Effect.zipRight(Effect.tryPromise(() => commands.get(counter)).pipe(Effect.option)),
    Effect.map((value) => Option.isSome(value) && value.value !== null ? Number(value.value) : undefined)
  )

const connections = (settings: SharedForgeSettings, me: string, report: (event: ConnectionEvent) => void) =>
  Effect.all({
    commands: connect(settings, "commands", `integer-forge-commands-${me}`, {
      ...transactionConnectionOptions,
      maxRetriesPerRequest: 1
    }, report),
    // The subscription waits for Redis however long it takes (an instance may start during an
    // outage), and ioredis subscribes again after every reconnect.
    subscriber: connect(settings, "subscriber", `integer-forge-subscriber-${me}`, {
      enableOfflineQueue: true,
      maxRetriesPerRequest: null
    }, report)
  })

/**
 * Logs why the connections are not up, once per change of cause (`RedisOutage`), and tells the
 * outage lines that cause: while the commands connection is down, what a failed attempt says is
 * only the client library refusing the command.
 */
const connectionLog = (settings: SharedForgeSettings, me: string, runSync: <A>(effect: Effect.Effect<A>) => A) => {
  let watch = initialWatch
  const { redis } = describeEndpoint(settings.endpoint)
  const at = endpointAddress(settings.endpoint)
  const report = (event: ConnectionEvent) => {
    const next = afterConnectionEvent(watch, event)
    watch = next.watch
    const line = next.line
    if (line === undefined) return
    runSync(
      (line._tag === "Failing"
        ? Effect.logWarning(`Redis connection failed: ${describeCause(line.cause)}`).pipe(
          Effect.annotateLogs({ cause: line.cause._tag })
        )
        : Effect.logInfo(`Redis connection ready: ${at}`)).pipe(Effect.annotateLogs({ instance: me, redis }))
    )
  }
  const trouble = () => {
    const now = condition(watch.connections)
    return now._tag === "Failing" ? describeCause(now.cause) : "not connected to Redis; no cause known yet"
  }
  return { report, trouble }
}

/**
 * The integers heard on `channel`, to `onInteger`, for the life of the scope. The listener goes
 * before what the caller acquired earlier (the PubSub): a message heard during the release must
 * not publish into a PubSub that is gone, inside ioredis's callback.
 */
const listen = (subscriber: Redis, channel: string, onInteger: (n: number) => void) => {
  const onMessage = (from: string, message: string) => {
    const n = Number(message)
    if (from === channel && Number.isSafeInteger(n)) onInteger(n)
  }
  return Effect.acquireRelease(
    Effect.sync(() => subscriber.on("message", onMessage)),
    () => Effect.sync(() => subscriber.off("message", onMessage))
  )
}

const logLines = (lines: ReadonlyArray<BeliefLine>, annotations: Record<string, unknown>) =>
  Effect.forEach(
    lines,
    (line) =>
      Effect.logWithLevel(lineLevel(line) === "Warning" ? LogLevel.Warning : LogLevel.Info, line).pipe(
        Effect.annotateLogs(annotations)
      ),
    { discard: true }
  )

/** What an instance needs to take part in the forge. */
interface Participant {
  readonly connection: WatchingConnection
  readonly names: RedisNames
  readonly me: string
  readonly leaseMs: number
}

/**
 * One attempt to take part, with `floor` the highest integer this instance has seen.
 *
 * The leader hears its own integers through the channel like everyone else, in the order Redis
 * published them; what its EXEC answers is only checked, so every instance delivers the same way.
 */
const takePartOnce = ({ connection, leaseMs, me, names }: Participant, floor: () => number) =>
  Effect.gen(function*() {
    // The floor as it was when the read was sent: every integer in it was published before the
    // WATCH, so the counter read is below it only if Redis lost it. Taken after the answer, it
    // could hold an integer the leader forged since, heard on the subscription first: a raise
    // that the EXEC aborts, one round trip for nothing.
    const highestSeen = floor()
    const seen = yield* read(connection, names)
    const writes = takePart(seen.watched, me, highestSeen)
    const replies = yield* write(connection, seen, writeCommands(writes, names, me, leaseMs))
    const settled = settle(seen.watched, me, writes, replies)
    // WATCH rules it out; should it happen, the next attempt starts again from what Redis holds.
    if (settled === undefined) {
      return yield* new RedisCommandFailed({ message: `INCR under WATCH did not count ${JSON.stringify(writes)}` })
    }
    return settled
  })

/** Gives the lease back if this instance holds it: between the read and the EXEC, another may take it. */
const giveBack = ({ connection, leaseMs, me, names }: Participant) =>
  read(connection, names).pipe(
    Effect.flatMap((seen) => write(connection, seen, writeCommands(leave(seen.watched, me), names, me, leaseMs)))
  )

const make = (settings: SharedForgeSettings) =>
  Effect.gen(function*() {
    const { bufferCapacity, intervalMs, replayCapacity } = yield* ForgeConfig
    yield* Effect.logInfo("forge: shared through Redis").pipe(
      Effect.annotateLogs({ ...describeEndpoint(settings.endpoint), prefix: settings.prefix })
    )
    const runSync = Runtime.runSync(yield* Effect.runtime<never>())
    const me = randomBytes(8).toString("hex")
    const names = redisNames(settings.prefix)
    // A lease shorter than the interval would lapse between two renewals.
    const leaseMs = Math.max(settings.leaseMs, intervalMs * 3)

    const log = connectionLog(settings, me, runSync)
    const { commands, subscriber } = yield* connections(settings, me, log.report)
    const secrets = endpointSecrets(settings.endpoint)

    let last = 0
    let belief = initialBelief
    const believe = (outcome: AttemptOutcome, error?: unknown) =>
      Effect.suspend(() => {
        const next = afterAttempt(belief, outcome)
        belief = next.belief
        const said = commands.status !== "ready"
          ? log.trouble()
          : withoutSecrets(error instanceof Error ? error.message : String(error), secrets)
        return logLines(next.lines, { instance: me, last, ...(error === undefined ? {} : { error: said }) })
      })

    const participant: Participant = { connection: watching(commands), names, me, leaseMs }
    // One attempt may take this long, both round trips together; longer counts as a failure.
    const patience = Duration.millis(Math.max(intervalMs, 250))
    const attempt = takePartOnce(participant, () => last).pipe(
      Effect.timeout(patience),
      Effect.matchEffect({
        onFailure: (error) => believe({ _tag: "Failed" }, error),
        onSuccess: (settled) => believe({ _tag: "Answered", leader: settled.leader })
      })
    )
    const release = giveBack(participant).pipe(
      Effect.timeout(patience),
      Effect.ignore,
      Effect.zipRight(Effect.sync(() => (belief = { ...belief, leader: false })))
    )

    // Taking part runs while this instance has subscribers; leaving gives the lease back.
    const { pubsub, running, subscribe, subscribers } = yield* makeDemandDrivenPubSub({
      capacity: bufferCapacity,
      worker: () =>
        Effect.addFinalizer(() => release).pipe(
          Effect.zipRight(Effect.forkScoped(everyInterval(intervalMs, attempt))),
          Effect.asVoid
        )
    })

    const onInteger = (n: number) => {
      const heard = hear(last, n, replayCapacity)
      if (heard.skipped > 0) {
        runSync(
          Effect.logWarning("forge: too many integers missed on the channel to fill the gap").pipe(
            Effect.annotateLogs({ instance: me, lastHeard: last, heard: n, skipped: heard.skipped })
          )
        )
      }
      last = heard.last
      for (const m of heard.deliver) runSync(PubSub.publish(pubsub, m))
    }
    yield* listen(subscriber, names.channel, onInteger)
    // Not awaited: during an outage the service still starts, and ioredis subscribes (and
    // resubscribes after every reconnect) as soon as Redis answers.
    subscriber.subscribe(names.channel).catch(() => undefined)
    // Start from the counter when Redis is there within a moment, so that this instance's
    // floor (and its replay range) is right from its first client on.
    last = Math.max(last, (yield* readCounter(commands, names.counter)) ?? 0)

    const status = Effect.all({ running, subscribers }).pipe(
      Effect.map(({ running, subscribers }) => ({
        running,
        subscribers,
        last,
        shared: { leader: belief.leader, redisReachable: commands.status === "ready" }
      }))
    )

    return { subscribe, status, sequence: undefined }
  })

/** The shared forge. Needs `ForgeConfig`. */
export const layer = (settings: SharedForgeSettings) => Layer.scoped(IntegerForge, make(settings))
