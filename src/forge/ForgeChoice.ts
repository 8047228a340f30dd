/**
 * Which forge the service runs on, decided by configuration in this one place: with `REDIS_URL`
 * set, the forge shared by every instance through Redis; without it, the in-process forge.
 */
import { Effect, Layer } from "effect"
import { RedisConfig } from "../Config.js"
import * as InProcessForge from "./InProcessForge.js"
import * as RedisForge from "./RedisForge.js"

export const fromEnv = Layer.unwrapEffect(
  Effect.map(RedisConfig.fromEnv, (redis) =>
    redis.url === undefined
      ? InProcessForge.layer.pipe(Layer.tap(() => Effect.logInfo("forge: in-process")))
      : RedisForge.layer({ url: redis.url, leaseMs: redis.leaseMs, prefix: redis.prefix }))
)
