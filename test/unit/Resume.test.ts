import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, FastCheck as fc, Layer, Scope, TestClock } from "effect"
import { ForgeLive } from "../../src/App.js"
import { ForgeConfig, ServerConfig } from "../../src/Config.js"
import type { Connection } from "../../src/connection/Connection.js"
import { Connections } from "../../src/connection/Connections.js"
import { replayRange, resumePlan, sinceOf } from "../../src/connection/Resume.js"
import { plainEncoding } from "../../src/wire/Frames.js"
import { recordingConnection } from "../support/RecordingConnection.js"

/** A client that records what the fan-out writes to each of its connections. */
const recorder = () => {
  const received: Array<number> = []
  return { connection: () => recordingConnection((text) => received.push(Number(text))), received }
}

/** A connection in the fan-out for the life of the caller's scope, released when it closes. */
const member = (connection: Connection, since?: number) =>
  Effect.flatMap(Connections, (connections) =>
    Effect.acquireRelease(
      Effect.sync(() => {
        connections.accept(connection)
        connections.join(
          connection,
          () => plainEncoding,
          since === undefined ? undefined : { after: since, sequence: undefined }
        )
      }),
      () => Effect.sync(() => connections.release(connection, 1000))
    ))

describe("Resume (?since=N)", () => {
  it.prop("since is one non-negative whole number, or invalid", [fc.string({ maxLength: 12 })], ([raw]) => {
    const parsed = sinceOf(`/_ws/?since=${encodeURIComponent(raw)}`)
    if (/^\d{1,15}$/.test(raw)) {
      assert.deepStrictEqual(parsed, { _tag: "Since", point: { after: Number(raw), sequence: undefined } })
    } else assert.strictEqual(parsed._tag, "Invalid")
    assert.deepStrictEqual(sinceOf("/_ws/?a=1"), { _tag: "Absent" })
    assert.strictEqual(sinceOf("/_ws/?since=1&since=2")._tag, "Invalid")
  })

  it.prop("sequence is at most one name the forges could have drawn, or empty; else the since is invalid", [
    fc.nat(),
    fc.oneof(fc.string({ maxLength: 70 }), fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/))
  ], ([n, name]) => {
    const parsed = sinceOf(`/_ws/?since=${n}&sequence=${encodeURIComponent(name)}`)
    if (name === "") assert.deepStrictEqual(parsed, { _tag: "Since", point: { after: n, sequence: undefined } })
    else if (/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
      assert.deepStrictEqual(parsed, { _tag: "Since", point: { after: n, sequence: name } })
    } else assert.strictEqual(parsed._tag, "Invalid")
  })

  it.prop(
    "a point of another sequence, one ahead of an in-process sequence, or one past what Redis counted of the shared sequence, gets everything held from the first",
    [
      fc.nat(10_000),
      fc.nat(10_000),
      fc.nat(2000),
      fc.constantFrom("this", "shared", "shared-Ab3", "other", undefined),
      fc.boolean(),
      fc.option(fc.nat(10_000), { nil: undefined })
    ],
    ([after, delivered, capacity, claimed, shared, forged]) => {
      const name = shared ? "shared" : "this"
      const lost = forged === undefined ? undefined : { forged, fresh: "shared-new" }
      const plan = resumePlan({ after, sequence: claimed }, delivered, capacity, name, shared, lost)
      const fromFirst = resumePlan({ after: 0, sequence: undefined }, delivered, capacity, name, shared)
      const ours = claimed === undefined || claimed === name || (shared && claimed === "shared-Ab3")
      const restart = ours && shared && after > delivered && forged !== undefined && after > forged
      if (!ours || restart || (!shared && after > delivered)) {
        assert.deepStrictEqual(plan, { ...fromFirst, sequence: restart ? "shared-new" : name })
        const oldestHeld = Math.max(1, delivered - capacity + 1)
        const held = capacity > 0 && delivered > 0
        assert.deepStrictEqual(plan.replay, held ? { from: oldestHeld, to: delivered } : undefined)
      } else {
        // A shared sequence's client keeps the name it has, a restart's too.
        assert.strictEqual(plan.sequence, claimed ?? name)
        if (after > delivered) {
          // Coming: Redis counted it (or cannot say), and this instance has not delivered it yet.
          assert.deepStrictEqual(plan, {
            replay: undefined,
            skipUpTo: after,
            startsAfter: after,
            sequence: plan.sequence
          })
        } else assert.deepStrictEqual(plan.replay, replayRange(after, delivered, capacity))
      }
    }
  )

  it.prop("the replay range is what is held after N: never before the oldest held, never past the last", [
    fc.nat(10_000),
    fc.nat(10_000),
    fc.nat(2000)
  ], ([after, delivered, capacity]) => {
    const range = replayRange(after, delivered, capacity)
    const oldestHeld = Math.max(1, delivered - capacity + 1)
    if (after >= delivered || capacity === 0) assert.isUndefined(range)
    else {
      assert.deepStrictEqual(range, { from: Math.max(after + 1, oldestHeld), to: delivered })
    }
  })

  it.effect.prop(
    "a client that reconnects with since=<last seen> sees no gap and no repeat while the gap fits the buffer",
    {
      capacity: fc.integer({ min: 1, max: 30 }),
      // Pairs of (time connected, time away), in forge intervals.
      visits: fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 40 })), {
        minLength: 1,
        maxLength: 8
      })
    },
    ({ capacity, visits }) =>
      Effect.gen(function*() {
        // A witness stays connected throughout, so the forge keeps forging while the client is away.
        const witness = recorder()
        yield* member(witness.connection())
        const client = recorder()
        let expectedNext: number | undefined
        for (const [connected, away] of visits) {
          const visit = yield* Scope.make()
          const before = client.received.length
          const since = client.received.at(-1)
          yield* Scope.extend(member(client.connection(), since), visit)
          yield* TestClock.adjust(connected * 10)
          yield* Scope.close(visit, Exit.void)
          const seen = client.received.slice(before)
          if (expectedNext !== undefined && seen.length > 0) assert.strictEqual(seen[0], expectedNext, "the seam")
          yield* TestClock.adjust(away * 10)
          const last = client.received.at(-1)
          const forged = witness.received.at(-1) ?? 0
          // The next visit starts with the integer after the last one seen, if it is still held.
          expectedNext = last === undefined ? undefined : Math.max(last + 1, forged - capacity + 1)
        }
        const all = client.received
        for (let i = 1; i < all.length; i++) {
          assert.isAbove(all[i]!, all[i - 1]!, "no repeat")
        }
        const gaps = all.slice(1).filter((n, i) => n !== all[i]! + 1).length
        if (visits.every(([, away]) => away <= capacity)) assert.strictEqual(gaps, 0, all.join(","))
      }).pipe(
        // The witness leaves before the connections' layer is released: its drain would wait on
        // the test clock for a client that is still there.
        Effect.scoped,
        Effect.provide(
          ForgeLive.pipe(Layer.provide([ForgeConfig.layerTest(10, 1024, capacity), ServerConfig.layerTest()]))
        )
      ),
    { fastCheck: { numRuns: 15 } }
  )
})
