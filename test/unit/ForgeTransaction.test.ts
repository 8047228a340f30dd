import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import {
  type Command,
  parseWatched,
  readCommands,
  redisNames,
  releaseWrites,
  settle,
  tickWrites,
  type Watched,
  writeCommands,
  type Writes
} from "../../src/forge/ForgeTransaction.js"

const names = redisNames("t")
const leaseMs = 1000
const instances = ["a", "b", "c"] as const
type Instance = typeof instances[number]

/**
 * Redis as far as the forge uses it, run on the very commands the forge sends: two keys, one
 * channel, and WATCH as Redis does it (a version per key, bumped by every change; EXEC runs only
 * if no watched key changed since WATCH).
 */
class ModelRedis {
  values = new Map<string, string>()
  versions = new Map<string, number>()
  published: Array<{ readonly integer: number; readonly by: Instance }> = []
  /** Every lease change a committed transaction made: who held it before, who after. */
  leaseChanges: Array<{ readonly before: string | null; readonly after: string | null; readonly by: Instance }> = []

  private touch(key: string) {
    this.versions.set(key, (this.versions.get(key) ?? 0) + 1)
  }

  read(commands: ReadonlyArray<Command>) {
    let watched = new Map<string, number>()
    let reply: Array<string | null> = []
    for (const [name, ...args] of commands) {
      if (name === "unwatch") watched = new Map()
      else if (name === "watch") { for (const key of args) watched.set(key, this.versions.get(key) ?? 0) }
      else if (name === "mget") reply = args.map((key) => this.values.get(key) ?? null)
      else throw new Error(`not a read command: ${name}`)
    }
    return { watched, reply }
  }

  exec(watched: ReadonlyMap<string, number>, commands: ReadonlyArray<Command>, by: Instance): Array<unknown> | null {
    for (const [key, version] of watched) if ((this.versions.get(key) ?? 0) !== version) return null
    const leaseBefore = this.values.get(names.leader) ?? null
    const replies = commands.map(([name, key, value]): unknown => {
      switch (name) {
        case "set":
          this.values.set(key!, value!)
          this.touch(key!)
          return "OK"
        case "incr": {
          const n = Number(this.values.get(key!) ?? "0") + 1
          this.values.set(key!, String(n))
          this.touch(key!)
          return n
        }
        case "publish":
          this.published.push({ integer: Number(value), by })
          return 3
        case "del":
          this.touch(key!)
          return this.values.delete(key!) ? 1 : 0
        default:
          throw new Error(`not a write command: ${name}`)
      }
    })
    const leaseAfter = this.values.get(names.leader) ?? null
    if (leaseAfter !== leaseBefore || commands.some(([name]) => name === "del")) {
      this.leaseChanges.push({ before: leaseBefore, after: leaseAfter, by })
    }
    return replies
  }

  /** The lease runs out. Redis 6.0.9 and later count that as a change of the key; older ones not. */
  expire(countsAsChange: boolean) {
    if (!this.values.delete(names.leader)) return
    if (countsAsChange) this.touch(names.leader)
  }

  /** Back empty, as a Redis that keeps nothing on disk: no key, and no WATCH survives. */
  restart() {
    this.values.clear()
    for (const key of this.versions.keys()) this.touch(key)
  }
}

type Action =
  | { readonly _tag: "Read"; readonly who: Instance; readonly leaving: boolean }
  | { readonly _tag: "Write"; readonly who: Instance }
  | { readonly _tag: "Receive"; readonly who: Instance }
  | { readonly _tag: "Expire"; readonly countsAsChange: boolean }
  | { readonly _tag: "Restart" }

const who = fc.constantFrom(...instances)
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ _tag: fc.constant("Read" as const), who, leaving: fc.constant(false) }) },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("Read" as const), who, leaving: fc.constant(true) }) },
  { weight: 8, arbitrary: fc.record({ _tag: fc.constant("Write" as const), who }) },
  { weight: 2, arbitrary: fc.record({ _tag: fc.constant("Receive" as const), who }) },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("Expire" as const), countsAsChange: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ _tag: "Restart" } as const) }
)

/**
 * Runs a schedule: each instance's attempt is a read and, later, its writes, with any other
 * instance's steps, lease expiries and Redis restarts in between. The highest integer an instance has seen is
 * what it received on the channel. A restart takes longer than a publish takes to reach every instance,
 * so by then each has received everything published; and it ends every connection, so no read made
 * before it is followed by its writes (RedisTransaction.ts refuses writes on a new connection).
 */
const run = (schedule: ReadonlyArray<Action>) => {
  const redis = new ModelRedis()
  const highestSeen = new Map<Instance, number>(instances.map((i) => [i, 0]))
  const pending = new Map<
    Instance,
    { watched: Watched; versions: ReadonlyMap<string, number>; leaving: boolean; highestSeen: number }
  >()
  const settled: Array<{ readonly writes: Writes; readonly leader: boolean; readonly forged: number | undefined }> = []
  const receiveAll = (i: Instance) => highestSeen.set(i, Math.max(0, ...redis.published.map((p) => p.integer)))
  for (const step of schedule) {
    switch (step._tag) {
      case "Read": {
        const { reply, watched } = redis.read(readCommands(names))
        // As RedisForge.ts does, the highest integer seen is taken when the read is sent.
        pending.set(step.who, {
          watched: parseWatched(reply)!,
          versions: watched,
          leaving: step.leaving,
          highestSeen: highestSeen.get(step.who)!
        })
        break
      }
      case "Write": {
        const read = pending.get(step.who)
        if (read === undefined) break
        pending.delete(step.who)
        const writes = read.leaving
          ? releaseWrites(read.watched, step.who)
          : tickWrites(read.watched, step.who, read.highestSeen)
        const commands = writeCommands(writes, names, step.who, leaseMs)
        const replies = commands.length === 0 ? null : redis.exec(read.versions, commands, step.who)
        const outcome = settle(read.watched, step.who, writes, replies)
        assert.isDefined(outcome, "INCR counted the integer published")
        settled.push({ writes, ...outcome! })
        break
      }
      case "Receive":
        receiveAll(step.who)
        break
      case "Expire":
        redis.expire(step.countsAsChange)
        break
      case "Restart":
        redis.restart()
        pending.clear()
        for (const i of instances) receiveAll(i)
        break
    }
  }
  return { redis, settled }
}

const schedules = fc.array(action, { maxLength: 100, size: "max" })

describe("ForgeTransaction", () => {
  it.prop("the integers published are 1, 2, 3, … : never one twice, never a gap, through restarts", [schedules], ([
    schedule
  ]) => {
    const integers = run(schedule).redis.published.map((p) => p.integer)
    assert.deepStrictEqual(integers, integers.map((_, i) => i + 1))
  }, { fastCheck: { numRuns: 1000 } })

  it.prop("a lease changes hands only when it is free: nobody takes or gives back another's", [schedules], ([
    schedule
  ]) => {
    for (const change of run(schedule).redis.leaseChanges) {
      assert.include([null, change.by], change.before, JSON.stringify(change))
    }
  }, { fastCheck: { numRuns: 1000 } })

  it.prop("an integer is published only by the lease holder, in the transaction that holds it", [schedules], ([
    schedule
  ]) => {
    const { redis, settled } = run(schedule)
    const forged = settled.filter((s) => s.forged !== undefined)
    assert.deepStrictEqual(forged.map((s) => s.forged), redis.published.map((p) => p.integer))
    for (const s of forged) assert.isTrue(s.leader)
  }, { fastCheck: { numRuns: 1000 } })

  it("two believed leaders: the one that read before the other's takeover writes nothing", () => {
    const { redis, settled } = run([
      { _tag: "Read", who: "a", leaving: false },
      { _tag: "Write", who: "a" }, // a leads: 1
      { _tag: "Read", who: "a", leaving: false }, // a reads, then stalls longer than its lease
      { _tag: "Expire", countsAsChange: false },
      { _tag: "Read", who: "b", leaving: false },
      { _tag: "Write", who: "b" }, // b takes the free lease: 2
      { _tag: "Write", who: "a" }, // a wakes up: its EXEC is aborted
      { _tag: "Read", who: "a", leaving: false },
      { _tag: "Write", who: "a" } // and now it sees b's lease: nothing
    ])
    assert.deepStrictEqual(redis.published, [{ integer: 1, by: "a" }, { integer: 2, by: "b" }])
    assert.deepStrictEqual(settled.map((s) => s.leader), [true, true, true, false])
  })

  it("a Redis restarted empty goes on above what the instances have seen, whoever takes the lease", () => {
    const { redis } = run([
      { _tag: "Read", who: "a", leaving: false },
      { _tag: "Write", who: "a" },
      { _tag: "Read", who: "a", leaving: false },
      { _tag: "Write", who: "a" },
      { _tag: "Restart" },
      { _tag: "Read", who: "c", leaving: false },
      { _tag: "Write", who: "c" }
    ])
    assert.deepStrictEqual(redis.published.map((p) => p.integer), [1, 2, 3])
  })

  it.prop("tickWrites forges only on a free or own lease, always above the counter and the highest seen", [
    fc.record({ leader: fc.option(who, { nil: null }), counter: fc.nat() }),
    who,
    fc.nat()
  ], ([watched, me, highestSeen]) => {
    const writes = tickWrites(watched, me, highestSeen)
    const mayLead = watched.leader === null || watched.leader === me
    assert.strictEqual(writes._tag === "Forge", mayLead)
    if (writes._tag === "Forge") assert.strictEqual(writes.integer, Math.max(watched.counter, highestSeen) + 1)
    const raises = writes._tag === "Forge"
      ? writes.raiseTo
      : writes._tag === "RaiseCounter"
      ? writes.raiseTo
      : undefined
    assert.strictEqual(raises, watched.counter < highestSeen ? highestSeen : undefined)
  })

  it.prop("parseWatched reads back the counter Redis holds, and refuses what is not a whole number", [
    fc.option(fc.string(), { nil: null }),
    fc.oneof(fc.constant(null), fc.nat().map(String), fc.string())
  ], ([leader, counter]) => {
    const watched = parseWatched([leader, counter])
    if (counter === null) assert.deepStrictEqual(watched, { leader, counter: 0 })
    else if (/^\d{1,15}$/.test(counter)) assert.deepStrictEqual(watched, { leader, counter: Number(counter) })
    else assert.isUndefined(watched)
  })

  it("an INCR that counted another integer than the one published is not taken for a success", () => {
    const watched = { leader: "a", counter: 4 }
    const writes = tickWrites(watched, "a", 0)
    assert.deepStrictEqual(settle(watched, "a", writes, ["OK", 5, 2]), { leader: true, forged: 5 })
    assert.isUndefined(settle(watched, "a", writes, ["OK", 7, 2]))
  })
})
