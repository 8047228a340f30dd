/**
 * The two round trips of `ForgeTransaction.ts` on one ioredis connection: the read under WATCH,
 * then the writes as MULTI/EXEC, never on another connection than the read. A WATCH belongs to
 * the server's connection, and an EXEC sent after ioredis reconnected would run unwatched. So the
 * writes are sent only while the count of "ready" events is the one the read was sent under
 * (without an offline queue, ioredis writes a command at once to the ready socket or refuses it),
 * and ioredis must not send unanswered commands again after a reconnect.
 */
import { Data, Effect } from "effect"
import type { Redis } from "ioredis"
import {
  type Command,
  parseWatched,
  readCommands,
  type RedisNames,
  settle,
  type Watched,
  writeCommands,
  type Writes
} from "./ForgeTransaction.js"

/** A command or the transaction failed, or Redis could not be reached; `message` says which. */
export class RedisCommandFailed extends Data.TaggedError("RedisCommandFailed")<{ readonly message: string }> {}

/** The connection's options: commands fail at once while Redis is away, and none is sent twice. */
export const transactionConnectionOptions = {
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false
} as const

/** Counts the connection's "ready" events from now on; make it before the connection is ready. */
export const watching = (client: Redis) => {
  let readies = 0
  client.on("ready", () => readies++)
  return { client, readies: () => readies }
}

type WatchingConnection = ReturnType<typeof watching>

/** A command's failure as a `RedisCommandFailed`, for every command the shared forge sends. */
export const failed = (cause: unknown) =>
  new RedisCommandFailed({ message: cause instanceof Error ? cause.message : String(cause) })

/** The first error among a pipeline's replies, or the replies. */
const replies = (results: ReadonlyArray<readonly [Error | null, unknown]>) => {
  const error = results.find(([e]) => e !== null)?.[0]
  return error ? Effect.fail(failed(error)) : Effect.succeed(results.map(([, reply]) => reply))
}

const mutable = (commands: ReadonlyArray<Command>) => commands.map((command) => [...command])

/** Round trip 1: the lease and the counter, watched from now on. */
export const read = (connection: WatchingConnection, names: RedisNames) =>
  Effect.gen(function*() {
    let readyCount = 0
    const results = yield* Effect.tryPromise({
      // The count of the connection the pipeline is written to, in the same synchronous step.
      try: () => {
        readyCount = connection.readies()
        return connection.client.pipeline(mutable(readCommands(names))).exec()
      },
      catch: failed
    })
    const watched = parseWatched((yield* replies(results ?? [])).at(-1) as ReadonlyArray<string | null>)
    if (watched === undefined) {
      return yield* new RedisCommandFailed({ message: `${names.counter} does not hold a whole number` })
    }
    return { watched, readyCount }
  })

/**
 * Round trip 2: the writes as one transaction, if the read's WATCH still holds. The replies, one
 * per write; null when Redis aborted the transaction (a watched key changed) or when there was
 * nothing to write.
 */
export const write = (
  connection: WatchingConnection,
  read: { readonly readyCount: number },
  commands: ReadonlyArray<Command>
): Effect.Effect<ReadonlyArray<unknown> | null, RedisCommandFailed> => {
  if (commands.length === 0) return Effect.succeed(null)
  return Effect.tryPromise({
    try: () => {
      // Checked in the same synchronous step that writes the transaction to the socket.
      if (connection.readies() !== read.readyCount || connection.client.status !== "ready") {
        return Promise.reject(new Error("the connection to Redis was made again since the WATCH"))
      }
      return connection.client.multi(mutable(commands)).exec()
    },
    catch: failed
  }).pipe(Effect.flatMap((results) => results === null ? Effect.succeed(null) : replies(results)))
}

/**
 * One optimistic transaction: the read, then the writes `decide` makes of what it read, and what
 * they came to. The writes are `me`'s, with a lease of `leaseMs`.
 */
export const transact = (
  connection: WatchingConnection,
  { leaseMs, me, names }: { readonly names: RedisNames; readonly me: string; readonly leaseMs: number },
  decide: (watched: Watched) => Writes
) =>
  Effect.gen(function*() {
    const seen = yield* read(connection, names)
    const writes = decide(seen.watched)
    const replies = yield* write(connection, seen, writeCommands(writes, names, me, leaseMs))
    // WATCH rules it out; should it happen, the next attempt starts again from what Redis holds.
    return settle(seen.watched, me, writes, replies) ??
      (yield* new RedisCommandFailed({ message: `INCR under WATCH did not count ${JSON.stringify(writes)}` }))
  })
