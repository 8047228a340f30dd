/**
 * How the process writes its log: Effect's logger, as JSON lines (one object per line, for log
 * collectors) or pretty text (for a person at a terminal), at a minimum level.
 *
 * `LOG_FORMAT` picks the format; unset, it is JSON when stdout is not a terminal or
 * `NODE_ENV=production`, pretty otherwise. `LOG_LEVEL` (default Info) sets the minimum level.
 */
import { Config, Effect, Layer, Logger, LogLevel, Option } from "effect"
import { makeBatchedOutput } from "./LogOutput.js"

export const LoggingConfig = Config.all({
  format: Config.literal("pretty", "json")("LOG_FORMAT").pipe(Config.option),
  level: Config.logLevel("LOG_LEVEL").pipe(Config.withDefault(LogLevel.Info)),
  production: Config.string("NODE_ENV").pipe(Config.map((env) => env === "production"), Config.withDefault(false))
})

// A log reader that goes away (a closed pipe, a dead collector) must cost the log, not the
// process and its clients: write errors on stdout and stderr are dropped.
const survivableOutput = Layer.scopedDiscard(Effect.acquireRelease(
  Effect.sync(() => {
    const drop = () => {}
    process.stdout.on("error", drop)
    process.stderr.on("error", drop)
    return drop
  }),
  (drop) =>
    Effect.sync(() => {
      process.stdout.off("error", drop)
      process.stderr.off("error", drop)
    })
))

// JSON lines, as Effect's JSON logger writes them, through one batched stdout for the process.
const batchedJson = Layer.unwrapScoped(Effect.gen(function*() {
  const output = yield* Effect.acquireRelease(
    Effect.sync(() => {
      const output = makeBatchedOutput((text) => process.stdout.write(text))
      process.on("exit", output.flush)
      return output
    }),
    (output) =>
      Effect.sync(() => {
        output.flush()
        process.off("exit", output.flush)
      })
  )
  return Logger.replace(Logger.defaultLogger, Logger.map(Logger.jsonLogger, output.write))
}))

export const layer = Layer.unwrapEffect(Effect.gen(function*() {
  const { format, level, production } = yield* LoggingConfig
  const json = Option.getOrElse(format, () => production || !process.stdout.isTTY ? "json" : "pretty") === "json"
  // A person at a terminal reads lines as they come; a collector reads batches.
  return Layer.mergeAll(json ? batchedJson : Logger.pretty, Logger.minimumLogLevel(level), survivableOutput)
}))
