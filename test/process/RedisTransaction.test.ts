/**
 * The shared forge's optimistic transaction against a real redis-server, with the interleavings a
 * process test of the service cannot time: another client's write between the read and the
 * EXEC, and a connection that drops and is made again between them, or while the EXEC is on its
 * way.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, Fiber } from "effect"
import { Redis } from "ioredis"
import { redisNames, tickWrites, writeCommands } from "../../src/forge/ForgeTransaction.js"
import { read, transactionConnectionOptions, watching, write } from "../../src/forge/RedisTransaction.js"
import { ensure, eventually } from "../support/Eventually.js"
import { redisClient, redisServer, redisServerBinary } from "../support/RedisServer.js"

const names = redisNames(`tx-${Math.random().toString(36).slice(2)}`)
const me = "instance-a"

/** A connection made as the forge makes its commands connection. */
const forgeConnection = (url: string) =>
  Effect.acquireRelease(
    Effect.async<Redis>((resume) => {
      const client = new Redis(url, {
        ...transactionConnectionOptions,
        connectionName: "transaction-test",
        retryStrategy: () => 50
      })
      client.on("error", () => {})
      client.once("ready", () => resume(Effect.succeed(client)))
    }),
    (client) => Effect.sync(() => client.disconnect())
  ).pipe(Effect.map(watching))

/** Everything published on the integers channel from now on. */
const published = (url: string) =>
  Effect.gen(function*() {
    const subscriber = yield* redisClient(url)
    const messages: Array<string> = []
    subscriber.on("message", (_channel: string, message: string) => messages.push(message))
    yield* Effect.promise(() => subscriber.subscribe(names.channel))
    return messages
  })

/** A fresh attempt's read, and the writes it decides on: forge 1 on an empty Redis. */
const readToForge = (connection: ReturnType<typeof watching>) =>
  Effect.gen(function*() {
    const seen = yield* read(connection, names)
    const writes = tickWrites(seen.watched, me, 0)
    assert.deepStrictEqual(writes, { _tag: "Forge", raiseTo: undefined, integer: 1 })
    return { seen, commands: writeCommands(writes, names, me, 1000) }
  })

describe.skipIf(redisServerBinary.skip)("the forge's optimistic transaction on a real Redis", () => {
  it.scopedLive("a write by another client between the read and the EXEC aborts it: nothing counted or published", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const admin = yield* redisClient(redis.url)
      const messages = yield* published(redis.url)
      const connection = yield* forgeConnection(redis.url)
      const { commands, seen } = yield* readToForge(connection)
      yield* Effect.promise(() => admin.set(names.counter, 5))
      assert.isNull(yield* write(connection, seen, commands), "EXEC aborted")
      yield* Effect.sleep(Duration.millis(100))
      assert.strictEqual(yield* Effect.promise(() => admin.get(names.counter)), "5")
      assert.isNull(yield* Effect.promise(() => admin.get(names.leader)))
      assert.deepStrictEqual(messages, [])
      // Undisturbed, the next attempt forges, above what the other client wrote.
      const next = yield* read(connection, names)
      const writes = tickWrites(next.watched, me, 0)
      assert.isNotNull(yield* write(connection, next, writeCommands(writes, names, me, 1000)))
      yield* eventually(ensure(() => messages.length === 1, "published"))
      assert.deepStrictEqual(messages, ["6"])
      assert.strictEqual(yield* Effect.promise(() => admin.get(names.leader)), me)
    }))

  it.scopedLive("no writes on a connection made again since the read: its EXEC would run unwatched", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const admin = yield* redisClient(redis.url)
      const messages = yield* published(redis.url)
      const connection = yield* forgeConnection(redis.url)
      const { commands, seen } = yield* readToForge(connection)
      const id = yield* Effect.promise(() => connection.client.client("ID"))
      yield* Effect.promise(() => admin.client("KILL", "ID", String(id)))
      yield* eventually(
        ensure(() => connection.readies() > seen.readyCount && connection.client.status === "ready", "reconnected"),
        Duration.seconds(10)
      )
      // What the read's WATCH would have caught, had it been on this connection.
      yield* Effect.promise(() => admin.set(names.counter, 5))
      const exit = yield* Effect.exit(write(connection, seen, commands))
      assert.isTrue(Exit.isFailure(exit), "the writes were refused")
      yield* Effect.sleep(Duration.millis(100))
      assert.strictEqual(yield* Effect.promise(() => admin.get(names.counter)), "5")
      assert.deepStrictEqual(messages, [])
    }))

  it.scopedLive("a transaction on its way when the connection drops is not sent again on the next one", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const admin = yield* redisClient(redis.url)
      const messages = yield* published(redis.url)
      const connection = yield* forgeConnection(redis.url)
      const { commands, seen } = yield* readToForge(connection)
      yield* Effect.promise(() => admin.set(names.counter, 5))
      // The server holds the transaction unanswered while paused; the connection then drops.
      yield* Effect.promise(() => admin.client("PAUSE", "700"))
      const pending = yield* Effect.fork(write(connection, seen, commands))
      yield* Effect.sleep(Duration.millis(100))
      connection.client.stream.destroy()
      yield* eventually(
        ensure(() => connection.readies() > seen.readyCount, "reconnected after the pause"),
        Duration.seconds(10)
      )
      yield* Effect.sleep(Duration.millis(300))
      // Sent again on the new connection, MULTI … EXEC would have run unwatched: 6, and "1" published.
      assert.strictEqual(yield* Effect.promise(() => admin.get(names.counter)), "5")
      assert.deepStrictEqual(messages, [])
      yield* Fiber.interrupt(pending)
    }))
})
