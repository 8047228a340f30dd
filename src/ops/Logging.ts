/**
 * The process's logger: JSON lines for collectors or pretty text for a terminal (`LOG_FORMAT`;
 * unset, JSON when stdout is not a terminal or `NODE_ENV=production`), at `LOG_LEVEL` (Info).
 */
import { Config, Effect, Layer, Logger, LogLevel, Option } from "effect"
import { makeBatchedOutput } from "./LogOutput.js"

const LoggingConfig = Config.all({
  format: Config.literal("pretty", "json")("LOG_FORMAT").pipe(Config.option),
  level: Config.logLevel("LOG_LEVEL").pipe(Config.withDefault(LogLevel.Info)),
  production: Config.string("NODE_ENV").pipe(Config.map((env) => env === "production"), Config.withDefault(false))
})

// A log reader that goes away (a closed pipe, a dead collector) must cost the log, not the
// process and its clients: write errors on stdout and stderr are dropped.
const drop = () => {}
const survivableOutput = Layer.scopedDiscard(Effect.acquireRelease(
  Effect.sync(() => [process.stdout, process.stderr].forEach((stream) => stream.on("error", drop))),
  () => Effect.sync(() => [process.stdout, process.stderr].forEach((stream) => stream.off("error", drop)))
))

// One batched stdout for the process; what is pending is written synchronously at exit.
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
