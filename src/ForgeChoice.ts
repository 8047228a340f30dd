/**
 * Which forge the service runs on, decided by configuration in this one place: with `REDIS_URL`
 * set, the forge shared by every instance through Redis; without it, the in-process forge.
 */
import { Effect, Layer, Option } from "effect"
import { IntegerForge } from "./IntegerForge.js"
import * as RedisForge from "./RedisForge.js"

export const fromEnv = Layer.unwrapEffect(
  Effect.map(RedisForge.RedisConfig.fromEnv, (redis) =>
    Option.match(redis.url, {
      onNone: () => IntegerForge.layerWithoutConfig,
      onSome: (url) => RedisForge.layer({ url, leaseMs: redis.leaseMs, prefix: redis.prefix })
    }))
)
