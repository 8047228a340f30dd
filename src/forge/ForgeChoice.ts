/**
 * Which forge the service runs on, decided by configuration in this one place: with a Redis to
 * share (`REDIS_URL`, or VIP's `VIP_REDIS_PRIMARY`), the forge shared by every instance through
 * it; without one, the in-process forge.
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
