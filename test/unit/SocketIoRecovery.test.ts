/**
 * The pure side of Socket.IO's connection-state recovery: what a CONNECT payload's pid and offset say, where
 * the socket resumes from, and which pid the answer carries, for payloads as socket.io-client
 * sends them and for anything else JSON can hold.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, FastCheck as fc, Layer, TestClock } from "effect"
import { ForgeLive } from "../../src/App.js"
import { ForgeConfig, ServerConfig } from "../../src/Config.js"
import { Connections } from "../../src/connection/Connections.js"
import { resumePlan } from "../../src/connection/Resume.js"
import { IntegerForge, sequenceNameOf } from "../../src/forge/IntegerForge.js"
import { answerPid, pidOf, recoveryOf, resumeAfter } from "../../src/socketio/Recovery.js"
import { socketIoEncoding } from "../../src/socketio/SocketIoProtocol.js"
import { namesSequence } from "../../src/wire/ResumePoint.js"
import { recordingConnection } from "../support/RecordingConnection.js"

const sequence = "Kq3_x-9ZpT0a"
const ours = (name: string) => name === sequence
const otherSequence = fc.stringMatching(/^[A-Za-z0-9_-]{1,16}$/).filter((s) => s !== sequence)
const whole = fc.integer({ min: 0, max: 999_999_999_999_999 })
// Offsets and starts as socket.io-client sends them back: our own digits.
const digits = whole.map(String)
// Strings that are not plain decimal digits of at most 15 figures.
const notWhole = fc.oneof(
  fc.string({ maxLength: 20 }).filter((s) => !/^\d{1,15}$/.test(s)),
  fc.constantFrom("", "-1", "1e3", "0x10", " 7", "7 ", "1.5", "1234567890123456", "NaN", "Infinity")
)

describe("Socket.IO recovery: the CONNECT payload", () => {
  it.prop("no pid (absent, or a payload that is no object) is a fresh connection", [
    fc.oneof(
      fc.constant(undefined),
      fc.dictionary(fc.string().filter((k) => k !== "pid"), fc.jsonValue()),
      fc.record({ offset: digits, token: fc.string() }, { requiredKeys: [] })
    )
  ], ([payload]) => {
    assert.deepStrictEqual(recoveryOf(payload, ours), { _tag: "Fresh" })
  })

  it.prop(
    "our pid and an offset after its start: resume after the offset, holding that pid",
    [whole, whole],
    ([start, last]) => {
      fc.pre(last >= start)
      const pid = pidOf(sequence, start)
      assert.deepStrictEqual(recoveryOf({ pid, offset: String(last) }, ours), { _tag: "Resume", pid, after: last })
    }
  )

  it.prop("our pid without an offset, or with one at or below its start: resume after the start", [
    whole,
    fc.option(whole, { nil: undefined })
  ], ([start, older]) => {
    fc.pre(older === undefined || older <= start)
    const pid = pidOf(sequence, start)
    const payload = older === undefined ? { pid } : { pid, offset: String(older) }
    assert.deepStrictEqual(recoveryOf(payload, ours), { _tag: "Resume", pid, after: start })
  })

  it.prop("a pid of another sequence is elsewhere, whatever its offset", [
    otherSequence,
    whole,
    fc.option(fc.oneof(digits, notWhole), { nil: undefined })
  ], ([name, start, offset]) => {
    assert.deepStrictEqual(recoveryOf({ pid: pidOf(name, start), offset }, ours), {
      _tag: "Elsewhere",
      sequence: name
    })
  })

  it.prop("a pid that is not <name>.<digits> is unknown", [
    fc.oneof(
      notWhole.map((start) => `${sequence}.${start}`),
      fc.constant(sequence),
      fc.string({ maxLength: 30 }).filter((s) => !/^[A-Za-z0-9_-]{1,64}\.\d{1,15}$/.test(s))
    ),
    fc.option(digits, { nil: undefined })
  ], ([pid, offset]) => {
    assert.deepStrictEqual(recoveryOf({ pid, offset }, ours), { _tag: "Unknown" })
  })

  it.prop("our pid with a malformed or out-of-range offset, or a pid that is no string, is unknown", [
    fc.oneof(
      fc.tuple(whole, fc.oneof(notWhole, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.object()))
        .map(([start, offset]) => ({ pid: pidOf(sequence, start), offset })),
      fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string()), fc.object())
        .map((pid) => ({ pid, offset: "1" }))
    )
  ], ([payload]) => {
    assert.deepStrictEqual(recoveryOf(payload, ours), { _tag: "Unknown" })
  })

  it.prop("never throws, whatever JSON the payload holds", [fc.jsonValue()], ([payload]) => {
    assert.include(["Fresh", "Unknown", "Elsewhere", "Resume"], recoveryOf(payload, ours)._tag)
    assert.include(
      ["Fresh", "Unknown", "Elsewhere", "Resume"],
      recoveryOf({ pid: payload, offset: payload }, ours)._tag
    )
  })
})

describe("Socket.IO recovery: where the socket resumes, and the answer's pid", () => {
  it.prop(
    "a pid of ours resumes after its offset; a fresh connection after ?since=; another sequence's from its first; an unknown pid from now",
    [whole, fc.option(whole.map((after) => ({ after, sequence: undefined })), { nil: undefined }), otherSequence],
    ([after, since, other]) => {
      const pid = pidOf(sequence, 0)
      assert.deepStrictEqual(resumeAfter({ _tag: "Resume", pid, after }, since), { after, sequence: undefined })
      assert.strictEqual(resumeAfter({ _tag: "Fresh" }, since), since)
      assert.deepStrictEqual(resumeAfter({ _tag: "Elsewhere", sequence: other }, since), { after: 0, sequence: other })
      assert.isUndefined(resumeAfter({ _tag: "Unknown" }, since))
    }
  )

  it.prop(
    "recovered (the client's pid back) exactly when the socket misses nothing after its offset, within REPLAY_CAPACITY; past what Redis counted, a restart's pid",
    [
      fc.nat(5000),
      fc.nat(5000),
      fc.nat(5000),
      fc.nat(2000),
      fc.boolean(),
      fc.option(fc.nat(5000), { nil: undefined })
    ],
    ([start, last, delivered, capacity, shared, forged]) => {
      const name = shared ? "shared" : sequence
      const isName = (named: string) => namesSequence(named, name, shared)
      const held = pidOf(name, start)
      const recovery = recoveryOf({ pid: held, offset: String(last) }, isName)
      assert.strictEqual(recovery._tag, "Resume")
      if (recovery._tag !== "Resume") return
      const lost = forged === undefined ? undefined : { forged, fresh: "shared-new" }
      const plan = resumePlan(resumeAfter(recovery, undefined), delivered, capacity, name, shared, lost)
      const pid = answerPid(recovery, plan.sequence, plan.startsAfter)
      const after = Math.max(start, last)
      const restart = shared && after > delivered && forged !== undefined && after > forged
      const inWindow = after <= delivered ? delivered - after <= capacity : shared && !restart
      if (inWindow) {
        assert.strictEqual(pid, held, "recovered")
        assert.strictEqual(plan.startsAfter, after)
        if (after < delivered) assert.deepStrictEqual(plan.replay, { from: after + 1, to: delivered })
      } else {
        // A new pid, which starts where the socket starts: its next connection resumes from there.
        assert.strictEqual(pid, pidOf(restart ? "shared-new" : name, plan.startsAfter))
        assert.deepStrictEqual(recoveryOf({ pid }, isName), { _tag: "Resume", pid, after: plan.startsAfter })
        // The only new pid equal to the client's starts at the chain's start, what the chain owes a
        // client whose offset is none of this sequence's (ahead of all it forged).
        if (pid === held) assert.isTrue(!shared && after > delivered && plan.startsAfter === start)
      }
    }
  )

  it.prop("a fresh or unknown connection gets a pid that starts where the socket starts", [
    fc.constantFrom({ _tag: "Fresh" } as const, { _tag: "Unknown" } as const),
    fc.nat(5000)
  ], ([recovery, startsAfter]) => {
    const pid = answerPid(recovery, sequence, startsAfter)
    assert.strictEqual(pid, `${sequence}.${startsAfter}`)
    assert.deepStrictEqual(recoveryOf({ pid }, ours), { _tag: "Resume", pid, after: startsAfter })
  })
})

/** A Socket.IO socket that records the integer events the fan-out writes to it, as socket.io-client reads them. */
const eventRecorder = () => {
  const received: Array<number> = []
  let offset: string | undefined
  const record = (text: string) => {
    const [, n, last] = JSON.parse(text.slice(2)) as [string, number, unknown]
    received.push(n)
    // socket.io-client takes the last argument of an event as its offset when it is a string.
    if (typeof last === "string") offset = last
  }
  return { connection: () => recordingConnection(record, "socket.io"), received, offset: () => offset }
}

describe("Socket.IO recovery through the registry", () => {
  it.effect.prop(
    "a client that comes back within REPLAY_CAPACITY is recovered and misses nothing; never a repeat",
    {
      capacity: fc.integer({ min: 0, max: 30 }),
      // Pairs of (time connected, time away), in forge intervals; often a connection that ends
      // before its first integer.
      visits: fc.array(
        fc.tuple(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 20 })), fc.integer({ min: 0, max: 40 })),
        { minLength: 1, maxLength: 8 }
      )
    },
    ({ capacity, visits }) =>
      Effect.gen(function*() {
        const connections = yield* Connections
        const name = sequenceNameOf(yield* IntegerForge)
        // A witness stays connected throughout, so the forge keeps forging while the client is away.
        const witness = eventRecorder()
        const witnessSide = witness.connection()
        connections.accept(witnessSide)
        connections.join(witnessSide, () => socketIoEncoding)
        const client = eventRecorder()
        let pid: string | undefined
        // Where the client's chain of connections started, and the last integer it has in it.
        let chainStart = 0
        let lastInChain: number | undefined
        for (const [connected, away] of visits) {
          const offset = client.offset()
          // What socket.io-client's CONNECT packet carries: `{ pid, offset }` once it holds a pid.
          const payload = pid === undefined ? undefined : { pid, ...(offset === undefined ? {} : { offset }) }
          const recovery = recoveryOf(payload, (named) => named === name)
          const has = lastInChain ?? chainStart
          const forged = witness.received.at(-1) ?? 0
          const before = client.received.length
          let answer = ""
          const clientSide = client.connection()
          connections.accept(clientSide)
          connections.join(clientSide, () => socketIoEncoding, resumeAfter(recovery, undefined), (startsAfter) => {
            assert.strictEqual(client.received.length, before, "the answer goes before any integer")
            answer = answerPid(recovery, name, startsAfter)
            if (answer !== pid) chainStart = startsAfter
          })
          const recovered = pid !== undefined && answer === pid
          if (pid !== undefined) {
            assert.strictEqual(recovered, forged - has <= capacity, `back after ${has} at ${forged}`)
          }
          if (!recovered) lastInChain = undefined
          pid = answer
          yield* TestClock.adjust(connected * 10)
          connections.release(clientSide, 1000)
          const seen = client.received.slice(before)
          if (recovered && seen.length > 0) assert.strictEqual(seen[0], has + 1, "the seam")
          lastInChain = seen.at(-1) ?? lastInChain
          yield* TestClock.adjust(away * 10)
        }
        const all = client.received
        for (let i = 1; i < all.length; i++) assert.isAbove(all[i]!, all[i - 1]!, "no repeat")
        // Before the connections' layer is released: its drain would wait on the test clock.
        connections.release(witnessSide, 1000)
      }).pipe(
        Effect.provide(
          ForgeLive.pipe(Layer.provide([ForgeConfig.layerTest(10, 1024, capacity), ServerConfig.layerTest()]))
        ),
        Effect.scoped
      ),
    { fastCheck: { numRuns: 15 } }
  )
})
