/**
 * The load board of the shared forge: each instance's count of connections in a key of its own
 * with a TTL, and a set naming the instances, so that a reader finds them without a SCAN. No Lua:
 * a member whose key has expired (an instance that died) is removed by whoever reads it. Plain
 * pipelines, never MULTI: they share the forge's connection, whose next EXEC belongs to its WATCH.
 */
import { Effect } from "effect"
import type { Redis } from "ioredis"
import { failed } from "./RedisTransaction.js"

const command = <A>(send: () => Promise<A>) => Effect.tryPromise({ try: send, catch: failed })

export const makeLoadBoard = (client: Redis, prefix: string, me: string) => {
  const members = `${prefix}:instances`
  const loadOf = (instance: string) => `${prefix}:load:${instance}`
  const post = (connections: number, ttlMs: number) =>
    Effect.gen(function*() {
      const [, , listed] = yield* command(() =>
        client.pipeline()
          .set(loadOf(me), String(connections), "PX", ttlMs)
          .sadd(members, me)
          .smembers(members)
          .exec()
      ).pipe(Effect.flatMap((replies) =>
        replies === null || replies.some(([error]) => error !== null)
          ? Effect.fail(failed(replies?.find(([error]) => error !== null)?.[0] ?? "no replies"))
          : Effect.succeed(replies.map(([, reply]) => reply))
      ))
      const instances = listed as ReadonlyArray<string>
      const counts = yield* command(() => client.mget(...instances.map(loadOf)))
      const loads = new Map<string, number>()
      const gone: Array<string> = []
      instances.forEach((instance, k) => {
        const count = Number(counts[k] ?? NaN)
        if (Number.isSafeInteger(count) && count >= 0) loads.set(instance, count)
        else gone.push(instance)
      })
      if (gone.length > 0) yield* command(() => client.srem(members, ...gone))
      return loads as ReadonlyMap<string, number>
    })
  const leave = command(() => client.pipeline().del(loadOf(me)).srem(members, me).exec()).pipe(Effect.ignore)
  return { post, leave }
}
