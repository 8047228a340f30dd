import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc, Redacted } from "effect"
import { ReplyError } from "ioredis"
import type { Redis } from "ioredis"
import { EventEmitter } from "node:events"
import { vi } from "vitest"
import { endpointAddress, endpointSecrets } from "../../src/forge/RedisEndpoint.js"
import { follow } from "../../src/forge/RedisForge.js"
import {
  afterConnectionEvent,
  type AttemptOutcome,
  classifyError,
  condition,
  type ConnectionCause,
  type ConnectionRole,
  type ConnectionState,
  initialOutcome,
  initialWatch,
  outcomeLines,
  silent,
  unanswered,
  withoutSecrets
} from "../../src/forge/RedisOutage.js"

const outcome: fc.Arbitrary<AttemptOutcome> = fc.oneof(
  fc.constant(unanswered),
  fc.boolean().map((leader) => ({ reachable: true, leader }))
)

const run = (outcomes: ReadonlyArray<AttemptOutcome>) => {
  let last = initialOutcome
  const lines: Array<string> = []
  for (const o of outcomes) {
    lines.push(...outcomeLines(last, o).map(([, message]) => message))
    last = o
  }
  return { last, lines }
}

describe("RedisOutage", () => {
  it.prop("an outage is two lines, unreachable then answers again, never one per attempt", [fc.array(outcome)], ([
    outcomes
  ]) => {
    const { lines } = run(outcomes)
    const outageLines = lines.filter((l) => l.startsWith("Redis"))
    outageLines.forEach((line, i) => assert.strictEqual(line.includes("unreachable"), i % 2 === 0, line))
    const outages = outcomes.filter((o, i) => !o.reachable && (i === 0 || outcomes[i - 1]!.reachable))
    assert.strictEqual(outageLines.filter((l) => l.includes("unreachable")).length, outages.length)
  })

  it.prop("lease lines alternate, taken first, and the last one says whether the last answer leads", [
    fc.array(outcome)
  ], ([outcomes]) => {
    const { last, lines } = run(outcomes)
    const leaseLines = lines.filter((l) => l.startsWith("forge lease"))
    leaseLines.forEach((line, i) => assert.strictEqual(line, i % 2 === 0 ? "forge lease taken" : "forge lease lost"))
    assert.strictEqual(leaseLines.at(-1) === "forge lease taken", last.leader)
  })

  it("a leader that stops hearing from Redis says it lost the lease, not only that Redis is away", () => {
    const { lines } = run([{ reachable: true, leader: true }, unanswered, unanswered])
    assert.deepStrictEqual(lines, [
      "forge lease taken",
      "Redis unreachable: integers paused until it answers",
      "forge lease lost"
    ])
  })
})

const role: fc.Arbitrary<ConnectionRole> = fc.constantFrom("commands", "subscriber")

/** A Node.js socket error as `net` makes it. */
const socketError = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), fields)

// Few causes, so that the same one comes again as it does while a client retries.
const cause: fc.Arbitrary<ConnectionCause> = fc.oneof(
  fc.constantFrom(
    socketError("connect ECONNREFUSED 127.0.0.1:6379", { code: "ECONNREFUSED", address: "127.0.0.1", port: 6379 }),
    socketError("connect ECONNREFUSED ::1:6380", { code: "ECONNREFUSED", address: "::1", port: 6380 }),
    socketError("getaddrinfo ENOTFOUND redis.internal", { code: "ENOTFOUND", hostname: "redis.internal" }),
    socketError("getaddrinfo EAI_AGAIN redis.internal", { code: "EAI_AGAIN", hostname: "redis.internal" }),
    socketError("connect ETIMEDOUT", { code: "ETIMEDOUT" }),
    new ReplyError("WRONGPASS invalid username-password pair or user is disabled."),
    new ReplyError("NOAUTH Authentication required."),
    new ReplyError("LOADING Redis is loading the dataset in memory"),
    socketError("connect EHOSTUNREACH 10.0.0.5:6379", { code: "EHOSTUNREACH", address: "10.0.0.5", port: 6379 })
  ).map((error) => classifyError(error, "127.0.0.1:6379")!),
  fc.constantFrom("127.0.0.1:6379", "[::1]:6380").map((at) => silent(at, 1000))
)

type Event = readonly [ConnectionRole, Exclude<ConnectionState, undefined>]
const event: fc.Arbitrary<Event> = fc.tuple(role, fc.oneof(cause, fc.constant("ready" as const)))

const stateKey = (state: ConnectionState) => typeof state === "object" ? state.key : state

const watchAll = (events: ReadonlyArray<Event>) => {
  let watch = initialWatch
  const lines: Array<ConnectionState> = []
  const conditions: Array<string | undefined> = []
  for (const [r, state] of events) {
    const next = afterConnectionEvent(watch, r, state)
    watch = next.watch
    if (next.line !== undefined) lines.push(next.line)
    conditions.push(stateKey(condition(watch)))
  }
  return { watch, lines, conditions }
}

/** A stand-in for an ioredis client: it emits what the test tells it to. */
const followed = () => {
  const client = new EventEmitter()
  const reports: Array<string | undefined> = []
  const endpoint = { _tag: "HostPort", host: "10.0.0.5", port: 6379, password: Redacted.make("pw") } as const
  const stop = follow(client as unknown as Redis, endpoint, (state) => reports.push(stateKey(state)))
  return { client, reports, stop }
}

describe("why the connections to Redis are not up", () => {
  it.prop(
    "the lines are the instance's causes as they change, a return to health only after a cause",
    [fc.array(event, { maxLength: 40 })],
    ([events]) => {
      const { conditions, lines } = watchAll(events)
      const expected: Array<string> = []
      for (const key of conditions) {
        if (key === undefined || key === expected.at(-1)) continue
        if (key === "ready" && expected.length === 0) continue
        expected.push(key)
      }
      assert.deepStrictEqual(lines.map(stateKey), expected)
    }
  )

  it.prop(
    "a cause said again, however often, is not logged again",
    [fc.array(event, { maxLength: 30 }), event, fc.integer({ min: 1, max: 20 })],
    ([before, again, times]) => {
      const { lines } = watchAll([...before, again])
      const after = watchAll([...before, ...Array.from({ length: times + 1 }, () => again)])
      assert.deepStrictEqual(after.lines, lines)
    }
  )

  it.prop("a healthy start, in any order, logs nothing", [fc.array(role, { maxLength: 10 })], ([roles]) => {
    assert.deepStrictEqual(watchAll(roles.map((role) => [role, "ready"] as const)).lines, [])
  })

  it("a try is silent after 1 s without a word; once ready, no timer runs until the next try", () => {
    vi.useFakeTimers()
    try {
      const { client, reports, stop } = followed()
      vi.advanceTimersByTime(999)
      assert.deepStrictEqual(reports, [])
      vi.advanceTimersByTime(1)
      assert.deepStrictEqual(reports, ["TimedOut"])
      client.emit("ready")
      vi.advanceTimersByTime(10_000)
      assert.deepStrictEqual(reports, ["TimedOut", "ready"])
      client.emit("close")
      client.emit("reconnecting", 500)
      vi.advanceTimersByTime(1499)
      assert.deepStrictEqual(reports, ["TimedOut", "ready"], "a close after ready is no drop")
      client.emit("error", socketError("connect ECONNREFUSED 10.0.0.5:6379", { code: "ECONNREFUSED" }))
      client.emit("close")
      assert.deepStrictEqual(reports, ["TimedOut", "ready", "Refused"], "a close after an error says nothing more")
      client.emit("reconnecting", 0)
      client.emit("close")
      stop()
      vi.advanceTimersByTime(10_000)
      client.emit("ready")
      assert.deepStrictEqual(reports, ["TimedOut", "ready", "Refused", "Dropped"], "nothing once stopped")
    } finally {
      vi.useRealTimers()
    }
  })

  it("an outage of both connections: one line for the cause, one when both are back", () => {
    const refused = classifyError(socketError("", { code: "ECONNREFUSED" }), "127.0.0.1:6379")!
    const { lines } = watchAll([
      ["commands", "ready"],
      ["subscriber", "ready"],
      ["subscriber", refused],
      ["commands", refused],
      ["commands", refused],
      ["commands", "ready"],
      ["subscriber", refused],
      ["subscriber", "ready"]
    ])
    assert.deepStrictEqual(lines, [refused, "ready"])
  })

  it("names each cause from the error the client library emits", () => {
    const here = "redis.internal:6379"
    const cases: ReadonlyArray<readonly [unknown, string | undefined]> = [
      [
        socketError("connect ECONNREFUSED 10.0.0.5:6379", { code: "ECONNREFUSED", address: "10.0.0.5", port: 6379 }),
        "ECONNREFUSED 10.0.0.5:6379: nothing listens there, or a firewall refuses the connection"
      ],
      [
        socketError("connect ECONNREFUSED ::1:6379", { code: "ECONNREFUSED", address: "::1", port: 6379 }),
        "ECONNREFUSED [::1]:6379: nothing listens there, or a firewall refuses the connection"
      ],
      [
        socketError("getaddrinfo ENOTFOUND redis.internal", { code: "ENOTFOUND", hostname: "redis.internal" }),
        "ENOTFOUND redis.internal: DNS does not know that name"
      ],
      [
        socketError("getaddrinfo EAI_AGAIN redis.internal", { code: "EAI_AGAIN", hostname: "redis.internal" }),
        "EAI_AGAIN redis.internal: DNS did not answer for that name"
      ],
      [socketError("connect ETIMEDOUT", { code: "ETIMEDOUT" }), `ETIMEDOUT ${here}: timeout, no TCP connection`],
      [
        new ReplyError("WRONGPASS invalid username-password pair or user is disabled."),
        `WRONGPASS at ${here}: Redis refuses the password (wrong, or its user is disabled)`
      ],
      [
        new ReplyError("ERR invalid password"),
        `ERR invalid password at ${here}: Redis refuses the password (wrong, or its user is disabled)`
      ],
      [
        new ReplyError("NOAUTH Authentication required."),
        `NOAUTH at ${here}: Redis wants a password and none was given`
      ],
      [
        Object.assign(new Error("Protocol error, got \"H\" as reply type byte. Please report this."), {
          name: "ParserError"
        }),
        `${here} answers, but not in Redis's protocol`
      ],
      [
        socketError("write EPIPE", { code: "EPIPE" }),
        `EPIPE at ${here}: the connection was closed before Redis was ready`
      ],
      [
        new ReplyError("LOADING Redis is loading the dataset in memory"),
        `LOADING at ${here}: Redis is loading the dataset in memory`
      ],
      [
        socketError("connect EHOSTUNREACH 10.0.0.5:6379", { code: "EHOSTUNREACH", address: "10.0.0.5", port: 6379 }),
        "EHOSTUNREACH at 10.0.0.5:6379: connect EHOSTUNREACH 10.0.0.5:6379"
      ],
      // Consequences of a connection that is down, not causes.
      [new Error("Stream isn't writeable and enableOfflineQueue options is false"), undefined],
      [new Error("Connection is closed."), undefined]
    ]
    for (const [error, expected] of cases) {
      const named = classifyError(error, here)
      assert.strictEqual(named?.text, expected, String(error))
    }
  })

  it("an error of no known kind that holds the password is named without it", () => {
    const named = classifyError(new Error("could not use hunter2-secret here"), "10.0.0.5:6379", ["hunter2-secret"])
    assert.isDefined(named)
    assert.notInclude(named!.text, "hunter2-secret")
  })

  it.prop(
    "no secret survives withoutSecrets, and a text without one is kept",
    [fc.string(), fc.array(fc.string(), { maxLength: 3 })],
    ([text, secrets]) => {
      const shown = withoutSecrets(text, secrets)
      for (const secret of secrets.filter((s) => s !== "")) assert.notInclude(shown, secret)
      if (secrets.every((s) => s === "" || !text.includes(s))) assert.strictEqual(shown, text)
    }
  )

  it.prop(
    "a text holding a secret, anywhere, is not shown",
    [fc.string(), fc.string({ minLength: 1 }), fc.string()],
    ([before, secret, after]) => {
      assert.notInclude(withoutSecrets(`${before}${secret}${after}`, [secret]), secret)
    }
  )

  it("where the endpoint connects, and what of it must not be logged", () => {
    assert.strictEqual(endpointAddress({ _tag: "Url", url: "redis://:p%40ss@redis.internal" }), "redis.internal:6379")
    assert.strictEqual(endpointAddress({ _tag: "Url", url: "rediss://u:x@[::1]:6380/2" }), "[::1]:6380")
    assert.strictEqual(
      endpointAddress({ _tag: "HostPort", host: "::1", port: 6379, password: Redacted.make("x") }),
      "[::1]:6379"
    )
    assert.sameMembers([...endpointSecrets({ _tag: "Url", url: "redis://:p%40ss@redis.internal" })], ["p%40ss", "p@ss"])
    assert.deepStrictEqual(endpointSecrets({ _tag: "Url", url: "redis://redis.internal" }), [])
    assert.deepStrictEqual(
      endpointSecrets({ _tag: "HostPort", host: "h", port: 1, password: Redacted.make(" pw ") }),
      [" pw "]
    )
    assert.deepStrictEqual(endpointSecrets({ _tag: "HostPort", host: "h", port: 1, password: Redacted.make("") }), [])
  })
})
