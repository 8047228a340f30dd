import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc, Redacted } from "effect"
import { ReplyError } from "ioredis"
import { endpointAddress, endpointSecrets } from "../../src/forge/RedisEndpoint.js"
import {
  afterAttempt,
  afterConnectionEvent,
  type AttemptOutcome,
  type BeliefLine,
  causeKey,
  classifyError,
  condition,
  type ConnectionCause,
  type ConnectionEvent,
  type ConnectionLine,
  type ConnectionRole,
  describeCause,
  initialBelief,
  initialWatch,
  withoutSecrets
} from "../../src/forge/RedisOutage.js"

const outcome: fc.Arbitrary<AttemptOutcome> = fc.oneof(
  fc.constant({ _tag: "Failed" } as const),
  fc.boolean().map((leader) => ({ _tag: "Answered", leader }) as const)
)

const run = (outcomes: ReadonlyArray<AttemptOutcome>) => {
  let belief = initialBelief
  const lines: Array<BeliefLine> = []
  for (const o of outcomes) {
    const next = afterAttempt(belief, o)
    belief = next.belief
    lines.push(...next.lines)
  }
  return { belief, lines }
}

describe("RedisOutage", () => {
  it.prop("an outage is two lines, unreachable then answers again, never one per attempt", [fc.array(outcome)], ([
    outcomes
  ]) => {
    const { lines } = run(outcomes)
    const outageLines = lines.filter((l) => l.startsWith("Redis"))
    outageLines.forEach((line, i) => assert.strictEqual(line.includes("unreachable"), i % 2 === 0, line))
    const outages = outcomes.filter((o, i) => o._tag === "Failed" && (i === 0 || outcomes[i - 1]!._tag !== "Failed"))
    assert.strictEqual(outageLines.filter((l) => l.includes("unreachable")).length, outages.length)
  })

  it.prop("lease lines alternate, taken first, and the belief follows the last answer", [fc.array(outcome)], ([
    outcomes
  ]) => {
    const { belief, lines } = run(outcomes)
    const leaseLines = lines.filter((l) => l.startsWith("forge lease"))
    leaseLines.forEach((line, i) => assert.strictEqual(line, i % 2 === 0 ? "forge lease taken" : "forge lease lost"))
    const lastOutcome = outcomes.at(-1)
    assert.strictEqual(belief.leader, lastOutcome?._tag === "Answered" && lastOutcome.leader)
    assert.strictEqual(belief.reachable, lastOutcome === undefined || lastOutcome._tag === "Answered")
    assert.strictEqual(leaseLines.at(-1) === "forge lease taken", belief.leader)
  })

  it("a leader that stops hearing from Redis says it lost the lease, not only that Redis is away", () => {
    const { lines } = run([{ _tag: "Answered", leader: true }, { _tag: "Failed" }, { _tag: "Failed" }])
    assert.deepStrictEqual(lines, [
      "forge lease taken",
      "Redis unreachable: integers paused until it answers",
      "forge lease lost"
    ])
  })
})

const role: fc.Arbitrary<ConnectionRole> = fc.constantFrom("commands", "subscriber")
const at = fc.constantFrom("127.0.0.1:6379", "[::1]:6380")

// Few causes, so that the same one comes again as it does while a client retries.
const cause: fc.Arbitrary<ConnectionCause> = fc.oneof(
  at.map((at) => ({ _tag: "Refused", at }) as const),
  fc.constantFrom("ENOTFOUND", "EAI_AGAIN").map((code) =>
    ({ _tag: "HostNotFound", host: "redis.internal", code }) as const
  ),
  at.map((at) => ({ _tag: "TimedOut", at, silentMs: undefined }) as const),
  at.map((at) => ({ _tag: "WrongPassword", at, code: "WRONGPASS" }) as const),
  at.map((at) => ({ _tag: "PasswordMissing", at }) as const),
  fc.constantFrom("LOADING", "EHOSTUNREACH").map((code) =>
    ({ _tag: "Other", at: "127.0.0.1:6379", code, message: "…" }) as const
  )
)

const event: fc.Arbitrary<ConnectionEvent> = fc.oneof(
  fc.record({ _tag: fc.constant("Failed" as const), role, cause }),
  fc.record({ _tag: fc.constant("Ready" as const), role }),
  fc.record({ _tag: fc.constant("Silent" as const), role, at, silentMs: fc.constant(1000) })
)

const lineKey = (line: ConnectionLine) => line._tag === "Ready" ? "ready" : causeKey(line.cause)

const watchAll = (events: ReadonlyArray<ConnectionEvent>) => {
  let watch = initialWatch
  const lines: Array<ConnectionLine> = []
  const conditions: Array<string | undefined> = []
  for (const e of events) {
    const next = afterConnectionEvent(watch, e)
    watch = next.watch
    if (next.line !== undefined) lines.push(next.line)
    const now = condition(watch.connections)
    conditions.push(now._tag === "Failing" ? causeKey(now.cause) : now._tag === "Ready" ? "ready" : undefined)
  }
  return { watch, lines, conditions }
}

/** A Node.js socket error as `net` makes it. */
const socketError = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), fields)

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
      assert.deepStrictEqual(lines.map(lineKey), expected)
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
    assert.deepStrictEqual(watchAll(roles.map((role) => ({ _tag: "Ready", role }))).lines, [])
  })

  it.prop(
    "a timer that fires after a connection became ready changes nothing",
    [fc.array(event, { maxLength: 30 }), role],
    ([before, r]) => {
      const ready = watchAll([...before, { _tag: "Ready", role: r }])
      const late = afterConnectionEvent(ready.watch, { _tag: "Silent", role: r, at: "127.0.0.1:6379", silentMs: 1000 })
      assert.deepStrictEqual(late.watch, ready.watch)
      assert.isUndefined(late.line)
    }
  )

  it("an outage of both connections: one line for the cause, one when both are back", () => {
    const refused: ConnectionCause = { _tag: "Refused", at: "127.0.0.1:6379" }
    const { lines } = watchAll([
      { _tag: "Ready", role: "commands" },
      { _tag: "Ready", role: "subscriber" },
      { _tag: "Failed", role: "subscriber", cause: refused },
      { _tag: "Failed", role: "commands", cause: refused },
      { _tag: "Failed", role: "commands", cause: refused },
      { _tag: "Ready", role: "commands" },
      { _tag: "Failed", role: "subscriber", cause: refused },
      { _tag: "Ready", role: "subscriber" }
    ])
    assert.deepStrictEqual(lines, [{ _tag: "Failing", cause: refused }, { _tag: "Ready" }])
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
      assert.strictEqual(named === undefined ? undefined : describeCause(named), expected, String(error))
    }
  })

  it("an error of no known kind that holds the password is named without it", () => {
    const named = classifyError(new Error("could not use hunter2-secret here"), "10.0.0.5:6379", ["hunter2-secret"])
    assert.isDefined(named)
    assert.notInclude(describeCause(named!), "hunter2-secret")
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
