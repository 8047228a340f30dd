import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Schedule } from "effect"
import { ensure, eventually } from "../support/Eventually.js"
import { httpUrl, wsUrl } from "../support/LocalUrls.js"
import { scrapeMetrics } from "../support/Metrics.js"
import { sentinelGroup, sentinelSkip } from "../support/RedisSentinel.js"
import { consecutive } from "../support/Sequences.js"
import { serviceOnFreePort } from "../support/ServiceProcess.js"
import { connect } from "../support/WebSocketClient.js"

const intervalMs = 200
const downAfterMs = 1000
const master = "forge"

/** One instance of the service on the group's primary, as Sentinel names it. */
const instance = (env: Record<string, string>, prefix: string) =>
  serviceOnFreePort({ ...env, REDIS_PREFIX: prefix, FORGE_INTERVAL_MS: String(intervalMs) })

/** A `ws` client that also notes when each integer came. */
const listener = (url: string) =>
  Effect.gen(function*() {
    const client = yield* connect(url)
    const at: Array<number> = []
    client.ws.on("message", () => at.push(Date.now()))
    const longestSilence = (from: number) =>
      Math.max(0, ...at.map((t, i) => i > 0 && at[i - 1]! >= from ? t - at[i - 1]! : 0))
    return { client, numbers: () => client.received.map(Number), longestSilence }
  })

const messages = (log: string, text: string) =>
  log.split("\n").filter((line) => line.includes(text)).map((line) => JSON.parse(line) as Record<string, unknown>)

/**
 * A Redis failover while integers flow. "killed": the primary is killed (SIGKILL) and the
 * sentinels promote the replica; "behind": the same with the replica held behind; "demoted": an
 * operator's failover (`SENTINEL FAILOVER`), where the old primary lives on as a replica and
 * refuses writes. Two instances, a client on each that stays, and one that leaves before the
 * failover and resumes with `since=` on the other instance after it.
 */
const failover = (how: "killed" | "behind" | "demoted") =>
  Effect.gen(function*() {
    const group = yield* sentinelGroup(master, downAfterMs)
    const prefix = `test-${Math.random().toString(36).slice(2)}`
    const instances = yield* Effect.all([1, 2].map(() => instance(group.env, prefix)), { concurrency: 2 })
    return yield* judged(how, group, prefix, instances).pipe(
      Effect.onError(() =>
        Effect.sync(() => {
          for (const [k, { service }] of instances.entries()) {
            console.log(`instance ${k + 1}'s log:\n${service.log().split("\n").slice(-30).join("\n")}`)
          }
        })
      )
    )
  })

const judged = (
  how: "killed" | "behind" | "demoted",
  group: Effect.Effect.Success<ReturnType<typeof sentinelGroup>>,
  prefix: string,
  instances: ReadonlyArray<Effect.Effect.Success<ReturnType<typeof instance>>>
) =>
  Effect.gen(function*() {
    const [a, b] = yield* Effect.forEach(instances, (i) => listener(wsUrl(i.port, "/_ws/")))
    const leaving = yield* connect(wsUrl(instances[0]!.port, "/_ws/"))
    yield* eventually(ensure(() => a!.numbers().length >= 5 && b!.numbers().length >= 5, "integers flow"))
    for (const { service } of instances) {
      assert.deepStrictEqual(
        messages(service.log(), "\"Redis primary:").map((line) => line["message"]),
        [`Redis primary: 127.0.0.1:${group.primary.port}`]
      )
    }
    if (how === "behind") {
      yield* group.holdReplicaBehind
      const held = a!.numbers().length
      yield* eventually(ensure(() => a!.numbers().length >= held + 5, "integers flow while the replica is held"))
    }
    const counterOf = (client: typeof group.admin.primary) =>
      Effect.tryPromise(() => client.get(`${prefix}:counter`)).pipe(Effect.map(Number))
    const onReplica = yield* counterOf(group.admin.replica)

    // Health and the Redis gauge, sampled on both instances through the failover.
    const samples: Array<{ readonly health: number; readonly reachable: number | undefined }> = []
    const sampling = yield* Effect.forEach(instances, ({ port }) =>
      Effect.all({
        health: Effect.promise(() => fetch(httpUrl(port, "/cache-healthcheck?")).then((r) => r.status)),
        reachable: scrapeMetrics(httpUrl(port, "/metrics")).pipe(Effect.map((read) => read("forge_redis_reachable")))
      })).pipe(
        Effect.tap((now) => Effect.sync(() => samples.push(...now))),
        Effect.repeat(Schedule.spaced(Duration.millis(100))),
        Effect.fork
      )

    leaving.ws.terminate()
    const resumeFrom = Math.max(...leaving.received.map(Number))
    const failedAt = Date.now()
    const onPrimary = yield* counterOf(group.admin.primary)
    yield* how === "demoted"
      ? Effect.tryPromise(() => group.admin.sentinels[0]!.call("sentinel", "failover", master))
      : group.primary.kill
    const switchedAt = yield* group.switched.pipe(Effect.timeout(Duration.seconds(30)))
    const highestBefore = Math.max(...a!.numbers(), ...b!.numbers())
    yield* eventually(
      ensure(() => Math.max(...a!.numbers(), ...b!.numbers()) >= highestBefore + 5, "integers again after"),
      Duration.seconds(10)
    )
    const resumed = yield* connect(wsUrl(instances[1]!.port, `/_ws/?since=${resumeFrom}`))
    yield* eventually(ensure(() => resumed.received.length >= 3, "the resumed client hears integers"))
    yield* Fiber.interrupt(sampling)

    for (const client of [a!, b!]) {
      assert.isTrue(consecutive(client.numbers()), `no integer missed or repeated: ${client.numbers().join(",")}`)
      const silence = client.longestSilence(failedAt - 2 * intervalMs)
      const failoverMs = switchedAt - failedAt
      assert.isAtMost(silence, failoverMs + intervalMs + 1000, `silence ${silence} ms, failover ${failoverMs} ms`)
    }
    assert.strictEqual(Number(resumed.received[0]), resumeFrom + 1, "the resumed client misses nothing held")
    assert.isTrue(consecutive(resumed.received))
    assert.isTrue(samples.every((s) => s.health === 200), "the health check answers 200 throughout")
    if (how !== "demoted") {
      // Out of reach for as long as the sentinels take to agree the primary is down, at least.
      assert.isTrue(samples.some((s) => s.reachable === 0), "the gauge says when Redis is out of reach")
    }
    for (const { port, service } of instances) {
      const read = yield* scrapeMetrics(httpUrl(port, "/metrics"))
      assert.strictEqual(read("forge_redis_reachable"), 1)
      const failovers = messages(service.log(), "\"Redis failover:").map((line) => line["message"])
      assert.deepStrictEqual(failovers, [
        `Redis failover: the primary is now 127.0.0.1:${group.replica.port}, was 127.0.0.1:${group.primary.port}`
      ])
    }
    console.log(
      `Sentinel, ${how}: failover ${switchedAt - failedAt} ms, longest silence ${
        Math.max(a!.longestSilence(failedAt - 2 * intervalMs), b!.longestSilence(failedAt - 2 * intervalMs))
      } ms`
    )
    // The promoted replica's counter, raised past every integer the instances had seen.
    const raised = instances.flatMap(({ service }) => messages(service.log(), "Redis had lost integers"))
    if (how === "behind") {
      assert.isBelow(onReplica, onPrimary, "the replica was behind when the primary died")
      assert.isAbove(raised.length, 0, "the raise is logged")
      const said = raised[0]!["annotations"] as Record<string, unknown>
      assert.strictEqual(said["counter"], onReplica, "what the promoted replica held")
      assert.isString(said["instance"])
    }
  })

describe.skipIf(sentinelSkip)("the shared forge under Sentinel", () => {
  it.scopedLive(
    "the primary dies: the promoted replica takes over, no integer missed or repeated",
    () => failover("killed"),
    60_000
  )

  it.scopedLive(
    "the promoted replica was behind: its counter is raised past what the instances had seen",
    () => failover("behind"),
    60_000
  )

  it.scopedLive(
    "an operator's failover: the old primary, now a replica, is left for the new one",
    () => failover("demoted"),
    60_000
  )
})
