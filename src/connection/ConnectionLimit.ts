/**
 * How many connections the process may hold open. Each is a file descriptor, so the configured
 * maximum is capped below the descriptor limit, with a margin for everything else that needs one.
 */
import { Context, Effect, Layer } from "effect"
import { readFile } from "node:fs/promises"
import { ServerConfig } from "../Config.js"

/** Descriptors kept free: 2.5 % of the limit, and never fewer than 64. */
export const descriptorMargin = (fdLimit: number): number => Math.max(64, Math.ceil(fdLimit * 0.025))

/** The number of sockets to allow: the configured maximum, capped by the descriptor limit. */
export const connectionCeiling = (configured: number, fdLimit: number | undefined): number =>
  fdLimit === undefined ? configured : Math.max(1, Math.min(configured, fdLimit - descriptorMargin(fdLimit)))

/** The soft limit on open files from `/proc/self/limits`, or undefined where there is none. */
export const parseOpenFilesLimit = (limits: string): number | undefined => {
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(limits)
  return match === null || match[1] === "unlimited" ? undefined : Number(match[1])
}

/** The most connections of every kind together, read once at start. */
export class MaxConnections extends Context.Tag("IntegerForge/MaxConnections")<MaxConnections, number>() {
  static readonly layer = Layer.effect(
    MaxConnections,
    Effect.gen(function*() {
      const { maxConnections } = yield* ServerConfig
      // Undefined off Linux, or when unreadable.
      const fdLimit = yield* Effect.tryPromise(() => readFile("/proc/self/limits", "utf8")).pipe(
        Effect.map(parseOpenFilesLimit),
        Effect.orElseSucceed(() => undefined)
      )
      const ceiling = connectionCeiling(maxConnections, fdLimit)
      if (ceiling < maxConnections) {
        yield* Effect.logWarning(
          `MAX_CONNECTIONS=${maxConnections} is above what ${fdLimit} file descriptors allow; using ${ceiling}`
        )
      }
      return ceiling
    })
  )
}
