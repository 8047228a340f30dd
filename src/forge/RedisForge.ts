/**
 * The forge shared by every instance through Redis (docs/scaling.md). Every instance relays its
 * subscription to the integers channel into its local PubSub (`ChannelSequence` fills gaps). One
 * with local subscribers ticks: one optimistic transaction per interval, with no Lua (Redis may
 * forbid scripts), leads and forges if it may (`ForgeTransaction`), and its last subscriber's
 * leaving releases the lease. Redis out of reach: integers pause, clients stay, the log says why.
 */
import { Duration, Effect, FiberSet, Layer, PubSub, Redacted } from "effect"
import type { Redis, RedisOptions } from "ioredis"
import { randomBytes } from "node:crypto"
import { ForgeConfig } from "../Config.js"
import { parseWholeNumber } from "../wire/WholeNumber.js"
import { receive } from "./ChannelSequence.js"
import { makeDemandDrivenPubSub } from "./DemandDrivenPubSub.js"
import { redisNames, releaseWrites, tickWrites } from "./ForgeTransaction.js"
import { IntegerForge } from "./IntegerForge.js"
import { describeEndpoint, endpointAddress, endpointSecrets, type RedisEndpoint } from "./RedisEndpoint.js"
import { makeLoadBoard } from "./RedisLoadBoard.js"
import {
  afterConnectionEvent,
  type AttemptOutcome,
  classifyError,
  closed,
  condition,
  type ConnectionRole,
  type ConnectionState,
  initialOutcome,
  initialWatch,
  outcomeLines,
  silent,
  unanswered,
  withoutSecrets
} from "./RedisOutage.js"
import { transact, transactionConnectionOptions, watching } from "./RedisTransaction.js"
import { leadOrFollow } from "./Ticker.js"

export interface SharedForgeSettings {
  readonly endpoint: RedisEndpoint
  readonly leaseMs: number
  readonly prefix: string
}

type Report = (state: Exclude<ConnectionState, undefined>) => void

/**
 * How long a try to connect may go without an error or "ready" before it counts as a timeout: a
 * silent Redis is named within 2 s, where ioredis's connect timeout (10 s, TCP only) would not.
 */
const silenceMs = 1000

/**
 * Reports what a connection's tries come to until the returned function is called. A try starts
 * at creation and at each "reconnecting" (after its delay); it ends in an error, in "ready", or in
 * a close, which without either is a drop. One that says nothing for `silenceMs` is silent.
 */
export const follow = (client: Redis, endpoint: RedisEndpoint, report: Report) => {
  const at = endpointAddress(endpoint)
  const secrets = endpointSecrets(endpoint)
  let timer: ReturnType<typeof setTimeout> | undefined
  let ended = false
  let stopped = false
  const tell: Report = (state) => stopped || report(state)
  const end: Report = (state) => {
    clearTimeout(timer)
    ended = true
    tell(state)
  }
  const arm = (ms: number) => {
    clearTimeout(timer)
    ended = false
    timer = setTimeout(() => tell(silent(at, silenceMs)), ms)
  }
  client.on("error", (error: unknown) => {
    const cause = classifyError(error, at, secrets)
    if (cause !== undefined) end(cause)
  })
  client.on("ready", () => end("ready"))
  client.on("close", () => ended || end(closed(at)))
  client.on("reconnecting", (delay: unknown) => arm((typeof delay === "number" ? delay : 0) + silenceMs))
  arm(silenceMs)
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}

/** A Redis connection for the life of the scope, followed from its creation. */
const connect = (endpoint: RedisEndpoint, name: string, options: RedisOptions, report: Report) =>
  Effect.acquireRelease(
    // Loaded here, so that an instance without a Redis never evaluates ioredis (Bundle.test.ts);
    // one that cannot load is a broken install: a defect, as a failed static import would be.
    Effect.promise(() => import("ioredis")).pipe(Effect.map(({ Redis }) => {
      const all: RedisOptions = {
        ...options,
        connectionName: name,
        // With Sentinel a try asks a sentinel where the primary is: after a failover, the next
        // try finds the new one within half a second.
        retryStrategy: (n) => Math.min(n * 100, endpoint._tag === "Sentinel" ? 500 : 1000),
        // A primary demoted by a failover (or a DNS name now on a replica) refuses writes with
        // READONLY: the primary is gone, so connect again (with Sentinel: to the one it names now).
        reconnectOnError: (error) => error.message.startsWith("READONLY")
      }
      // VIP may hand over an empty password: then there is nothing to AUTH with.
      const secret = (value: Redacted.Redacted<string>) => Redacted.value(value) || undefined
      const client = endpoint._tag === "Url"
        ? new Redis(endpoint.url, all)
        : endpoint._tag === "HostPort"
        ? new Redis({ ...all, host: endpoint.host, port: endpoint.port, password: secret(endpoint.password) })
        : new Redis({
          ...all,
          sentinels: endpoint.sentinels.map(({ host, port }) => ({ host, port })),
          name: endpoint.master,
          role: "master",
          password: secret(endpoint.password),
          sentinelPassword: secret(endpoint.sentinelPassword),
          // Told of a failover by the sentinels at once: an old primary that stays up goes on
          // taking writes until the sentinels demote it, seconds later.
          failoverDetector: true
        })
      // Followed at once: the first try's error may come before anything else runs.
      const stopFollowing = follow(client, endpoint, report)
      // ioredis gives a connection up ("end") when a failover is announced while it connects
      // again after a drop: its failover detector outlives the dropped connection and cuts the
      // try short. Until the release, such a connection connects again.
      let released = false
      let again: ReturnType<typeof setTimeout> | undefined
      client.on("end", () => {
        if (!released) again = setTimeout(() => client.connect().catch(() => {}), 100)
      })
      const stop = () => {
        released = true
        clearTimeout(again)
        stopFollowing()
      }
      return { client, stop }
    })),
    ({ client, stop }) =>
      Effect.sync(() => {
        stop()
        client.disconnect()
      })
  ).pipe(Effect.map(({ client }) => client))

/** Done once the connection is ready, or after 2 s. */
const readyOrTimeout = (commands: Redis) =>
  Effect.async<void>((resume) => {
    if (commands.status === "ready") return resume(Effect.void)
    commands.once("ready", () => resume(Effect.void))
  }).pipe(Effect.timeout(Duration.seconds(2)), Effect.ignore)

/** The counter as Redis holds it now (0 when it holds none); undefined when Redis does not answer in time. */
const readCounter = (commands: Redis, counter: string, timeout: Duration.Duration) =>
  Effect.tryPromise(() => commands.get(counter)).pipe(
    Effect.timeout(timeout),
    Effect.map((value) => value === null ? 0 : parseWholeNumber(value)),
    Effect.orElseSucceed(() => undefined)
  )

/**
 * With Sentinel, which primary the commands connection is on: logged once known, and again at each
 * change (a failover). Redis's own view (`CLIENT INFO`'s `laddr`), as the sentinels' answer may
 * have changed again by the time the connection is ready.
 */
const logPrimary = (client: Redis, endpoint: RedisEndpoint, run: (effect: Effect.Effect<void>) => unknown) => {
  if (endpoint._tag !== "Sentinel") return
  let primary: string | undefined
  client.on("ready", () => {
    client.client("INFO").then((info) => {
      const at = /\bladdr=(\S+)/.exec(String(info))?.[1] ?? "(address unknown)"
      if (at === primary) return
      run(
        (primary === undefined
          ? Effect.logInfo(`Redis primary: ${at}`)
          : Effect.logWarning(`Redis failover: the primary is now ${at}, was ${primary}`)).pipe(
            Effect.annotateLogs({ master: endpoint.master, primary: at })
          )
      )
      primary = at
    }, () => {})
  })
}

/**
 * The two connections, and why they are not up: logged through `run` once per change of cause,
 * and the `reason` an attempt failed with an `error`.
 */
const connections = (endpoint: RedisEndpoint, me: string, run: (effect: Effect.Effect<void>) => unknown) =>
  Effect.gen(function*() {
    const { redis } = describeEndpoint(endpoint)
    let watch = initialWatch
    const report = (role: ConnectionRole): Report => (state) => {
      const { line, watch: next } = afterConnectionEvent(watch, role, state)
      watch = next
      if (line === undefined) return
      run(
        (line === "ready"
          ? Effect.logInfo(`Redis connection ready: ${endpointAddress(endpoint)}`)
          : Effect.logWarning(`Redis connection failed: ${line.text}`).pipe(Effect.annotateLogs({ cause: line.kind })))
          .pipe(Effect.annotateLogs({ redis }))
      )
    }
    const connection = watching(
      yield* connect(endpoint, `integer-forge-commands-${me}`, {
        ...transactionConnectionOptions,
        maxRetriesPerRequest: 1
      }, report("commands"))
    )
    logPrimary(connection.client, endpoint, run)
    // The subscription waits for Redis however long it takes (an instance may start during an
    // outage), and ioredis subscribes again after every reconnect.
    const subscriber = yield* connect(endpoint, `integer-forge-subscriber-${me}`, {
      enableOfflineQueue: true,
      maxRetriesPerRequest: null
    }, report("subscriber"))
    // While the commands connection is down, an attempt's error is only the client library
    // refusing the command: the cause is what the connection's events said.
    const reason = (error: unknown) => {
      const now = condition(watch)
      return connection.client.status === "ready"
        ? withoutSecrets(error instanceof Error ? error.message : String(error), endpointSecrets(endpoint))
        : typeof now === "object"
        ? now.text
        : "not connected to Redis; no cause known yet"
    }
    return { connection, subscriber, reason }
  })

/**
 * `onInteger` for each integer received on `channel`, for the life of the scope. It stays a plain
 * listener: what it does must be refused quietly, not thrown, should a message come during the
 * release; and it is removed before what was acquired earlier.
 */
const listen = (subscriber: Redis, channel: string, onInteger: (n: number) => void) => {
  const onMessage = (from: string, message: string) => {
    const n = Number(message)
    if (from === channel && Number.isSafeInteger(n)) onInteger(n)
  }
  return Effect.acquireRelease(
    Effect.sync(() => {
      subscriber.on("message", onMessage)
      // Not awaited: during an outage the service still starts, and ioredis subscribes (and
      // resubscribes after every reconnect) as soon as Redis answers.
      subscriber.subscribe(channel).catch(() => undefined)
    }),
    () => Effect.sync(() => subscriber.off("message", onMessage))
  )
}

const tooManyMissed = (lastHeard: number, heard: number, skipped: number) =>
  Effect.logWarning("forge: too many integers missed on the channel to fill the gap").pipe(
    Effect.annotateLogs({ lastHeard, heard, skipped })
  )

/**
 * One attempt of an instance with clients (`tickWrites`), which says so when it finds the counter
 * below what it has seen: once, as afterwards the counter is at least that.
 */
const attempt = (
  connection: Parameters<typeof transact>[0],
  lease: Parameters<typeof transact>[1],
  highestSeen: number
) => {
  let lower: number | undefined
  return transact(connection, lease, (watched) => {
    const writes = tickWrites(watched, lease.me, highestSeen)
    if (writes._tag === "Forge" ? writes.raiseTo !== undefined : writes._tag === "RaiseCounter") {
      lower = watched.counter
    }
    return writes
  }).pipe(Effect.tap(() =>
    lower === undefined ? Effect.void : Effect.logWarning(
      "forge: Redis had lost integers (an empty restart, or a failover to a replica that was behind); " +
        "the counter goes on above the highest integer seen here"
    ).pipe(Effect.annotateLogs({ instance: lease.me, counter: lower, highestSeen }))
  ))
}

const make = ({ endpoint, leaseMs, prefix }: SharedForgeSettings) =>
  Effect.gen(function*() {
    const { bufferCapacity, intervalMs, replayCapacity } = yield* ForgeConfig
    yield* Effect.logInfo("forge: shared through Redis").pipe(
      Effect.annotateLogs({ ...describeEndpoint(endpoint), prefix })
    )
    const me = randomBytes(8).toString("hex")
    const names = redisNames(prefix)
    // A lease shorter than the interval would lapse between two renewals.
    const lease = { names, me, leaseMs: Math.max(leaseMs, intervalMs * 3) }
    // What ioredis's callbacks log runs in fibers of this scope. Made before the connections, it
    // is closed after them, and refuses quietly what comes later.
    const run = yield* FiberSet.makeRuntime<never>().pipe(Effect.annotateLogs({ instance: me }))
    const { connection, reason, subscriber } = yield* connections(endpoint, me, run)
    let last = 0
    // When the last new integer was heard: one that does not lead waits until the next is overdue.
    let heardAt = 0
    let outcome = initialOutcome
    const conclude = (next: AttemptOutcome, error?: unknown) =>
      Effect.suspend(() => {
        const lines = outcomeLines(outcome, next)
        outcome = next
        return Effect.forEach(lines, ([level, message]) => Effect.logWithLevel(level, message), { discard: true }).pipe(
          Effect.annotateLogs({ instance: me, last, ...(error === undefined ? {} : { error: reason(error) }) })
        )
      })

    // One attempt may take this long, both round trips together; longer counts as a failure.
    const attemptTimeout = Duration.millis(Math.max(intervalMs, 250))
    // The leader receives its own integers on the channel like everyone else, in the order Redis
    // published them: what its EXEC answers is only checked.
    const tick = Effect.suspend(() => {
      // `last` as it was when the read was sent: every integer in it was published before the
      // WATCH, so the counter read is below it only if Redis lost it. Taken after the answer, it
      // could hold an integer the leader forged since: a raise that the EXEC aborts.
      const highestSeen = last
      return attempt(connection, lease, highestSeen)
    }).pipe(
      Effect.timeout(attemptTimeout),
      Effect.matchEffect({
        onFailure: (error) => conclude(unanswered, error),
        onSuccess: ({ leader }) => conclude({ reachable: true, leader })
      })
    )
    // Between the read and the EXEC another instance may acquire the lease: then it stays its own.
    const release = transact(connection, lease, (watched) => releaseWrites(watched, me)).pipe(
      Effect.timeout(attemptTimeout),
      Effect.ignore,
      Effect.zipRight(Effect.sync(() => (outcome = { ...outcome, leader: false })))
    )

    const { pubsub, running, subscribe, subscribers } = yield* makeDemandDrivenPubSub({
      capacity: bufferCapacity,
      worker: () =>
        Effect.addFinalizer(() => release).pipe(
          Effect.zipRight(Effect.forkScoped(leadOrFollow(intervalMs, tick, {
            leading: () => outcome.leader,
            heardAt: () => heardAt
          }))),
          Effect.asVoid
        )
    })

    // Publishing to a sliding PubSub completes at once, keeping the newest integers when a gap
    // fills more than its buffer; once it is shut down, the Exit says so instead of a throw.
    yield* listen(subscriber, names.channel, (n) => {
      const received = receive(last, n, replayCapacity)
      if (received.skipped > 0) run(tooManyMissed(last, n, received.skipped))
      last = received.last
      if (received.deliver.length > 0) heardAt = Date.now()
      Effect.runSyncExit(PubSub.publishAll(pubsub, received.deliver))
    })
    // From the counter when Redis is there within a moment, so that this instance's highest seen
    // integer (and its replay range) is right from its first client on.
    const counted = readCounter(connection.client, names.counter, attemptTimeout)
    last = Math.max(last, (yield* readyOrTimeout(connection.client).pipe(Effect.zipRight(counted))) ?? 0)

    const statusNow = () => ({
      running: running(),
      subscribers: subscribers(),
      last,
      shared: { leader: outcome.leader, redisReachable: connection.client.status === "ready" }
    })
    const loads = makeLoadBoard(connection.client, prefix, me)
    return { subscribe, status: Effect.sync(statusNow), statusNow, sequence: undefined, counted, loads }
  })

/** The shared forge. Needs `ForgeConfig`. */
export const layer = (settings: SharedForgeSettings) => Layer.scoped(IntegerForge, make(settings))
