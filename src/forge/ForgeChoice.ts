/**
 * Which forge the service runs on, decided by configuration in this one place: with a Redis to
 * share (`REDIS_URL`, or VIP's `VIP_REDIS_PRIMARY`), the forge shared by every instance through
 * it; without one, the in-process forge.
 *
 * The shared forge is imported only when it is chosen: it brings the Redis client (ioredis and its
 * helpers, a fifth of the bundle), which an instance without Redis would otherwise evaluate at
 * every start. In the bundle, the modules behind this import run only when it does
 * (scripts/build.mjs, test/process/Bundle.test.ts).
 */
import { Effect, Layer } from "effect"
import { RedisConfig } from "../Config.js"
import * as InProcessForge from "./InProcessForge.js"

export const fromEnv = Layer.unwrapEffect(
  Effect.flatMap(RedisConfig.fromEnv, (redis) => {
    const endpoint = redis.endpoint
    return endpoint === undefined
      ? Effect.succeed(InProcessForge.layer.pipe(Layer.tap(() => Effect.logInfo("forge: in-process"))))
      : Effect.map(
        // A module that cannot load is a broken install: a defect, as a failed static import would be.
        Effect.promise(() => import("./RedisForge.js")),
        (RedisForge) => RedisForge.layer({ endpoint, leaseMs: redis.leaseMs, prefix: redis.prefix })
      )
  })
)
