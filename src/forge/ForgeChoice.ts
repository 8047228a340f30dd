/**
 * Which forge the service runs on, decided by configuration in this one place: with a Redis to
 * share (`REDIS_URL`, or VIP's `VIP_REDIS_PRIMARY`), the forge shared by every instance through
 * it; without one, the in-process forge.
 *
 * Both forges are part of every start; the Redis client (ioredis and its helpers, a fifth of the
 * bundle) is not: the shared forge loads it when it opens its connections (RedisForge.ts).
 */
import { Effect, Layer } from "effect"
import { RedisConfig } from "../Config.js"
import * as InProcessForge from "./InProcessForge.js"
import * as RedisForge from "./RedisForge.js"

export const fromEnv = Layer.unwrapEffect(
  Effect.map(RedisConfig.fromEnv, (redis) =>
    redis.endpoint === undefined
      ? InProcessForge.layer.pipe(Layer.tap(() => Effect.logInfo("forge: in-process")))
      : RedisForge.layer({ endpoint: redis.endpoint, leaseMs: redis.leaseMs, prefix: redis.prefix }))
)
