/**
 * `npm run -s client -- ws://localhost:3000/_ws/`: each integer on a line of its own, as websocat
 * prints them, and what the connection goes through on stderr (`help` says more). A bad command
 * line or URL exits 2, a refusal or a close for good 1; Ctrl-C closes with 1000 and exits 0.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import type { Teardown } from "@effect/platform/Runtime"
import { Cause, Console, Effect, Exit, Logger, LogLevel, Stream } from "effect"
import { parseArgs } from "node:util"
import * as ShutdownSignals from "../ops/ShutdownSignals.js"
import { parseWholeNumber } from "../wire/WholeNumber.js"
import { events } from "./IntegerClient.js"
import { defaultPolicy, type ReconnectPolicy } from "./ReconnectPolicy.js"

const usage = "Usage: npm run -s client -- [--retry-base-ms N] [--retry-cap-ms N] ws://host:port/_ws/"

const help = `${usage}

Prints the service's integers, one per line, and reconnects by itself: after a reconnect the
service replays what the client missed (?since=), from the first integer of a sequence that
started over. What the connection goes through goes to stderr. The URL may be ws://, wss://,
http:// (taken as ws://) or https:// (as wss://). Ctrl-C closes the connection and exits 0.

  --retry-base-ms N  the first retry waits under N ms, each next one up to twice as long (default ${defaultPolicy.baseMs})
  --retry-cap-ms N   no retry waits longer than N ms (default ${defaultPolicy.capMs})
  -h, --help         this text`

/** Says what went wrong on stderr, and ends with `code`. */
const exitWith = (code: number, message: string) => Console.error(message).pipe(Effect.zipRight(Effect.fail(code)))

const run = (url: string, policy: ReconnectPolicy) =>
  events(url, { policy }).pipe(
    Stream.runForEach((event) => {
      switch (event._tag) {
        case "Integer":
          return Console.log(event.value)
        case "Connected":
          return Console.error(`connected to ${event.url}`)
        case "Reconnecting":
          return Console.error(`connection ${event.why}; reconnecting in ${event.delayMs} ms`)
        case "SequenceRestarted":
          return Console.error(
            `the service's sequence restarted (the last integer of the old one was ${event.lastSeen}): the new one follows from its first`
          )
      }
    }),
    Effect.catchAll((error) => exitWith(error._tag === "InvalidUrl" ? 2 : 1, error.message))
  )

// npm prints its banner on stdout, into the integers, unless told to be silent.
const npmBanner = process.env["npm_lifecycle_event"] === "client" && process.env["npm_config_loglevel"] !== "silent"

/** What the command line asks for; a wrong one ends with what is wrong with it and the usage. */
const program = (args: Array<string>): Effect.Effect<void, number> => {
  try {
    const { positionals, values } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        "retry-base-ms": { type: "string" },
        "retry-cap-ms": { type: "string" },
        help: { type: "boolean", short: "h" }
      }
    })
    if (values.help === true) return Console.log(help)
    const milliseconds = (name: "retry-base-ms" | "retry-cap-ms", fallback: number) => {
      const text = values[name]
      if (text === undefined) return fallback
      const n = parseWholeNumber(text)
      if (n === undefined || n < 1) throw new Error(`--${name} takes a whole number of milliseconds, not ${text}`)
      return n
    }
    const policy = {
      baseMs: milliseconds("retry-base-ms", defaultPolicy.baseMs),
      capMs: milliseconds("retry-cap-ms", defaultPolicy.capMs)
    }
    if (positionals.length !== 1) return exitWith(2, usage)
    const banner = npmBanner ? Console.error("(npm run -s client keeps npm's banner out of the integers)") : Effect.void
    return Effect.zipRight(banner, run(positionals[0]!, policy))
  } catch (error) {
    return exitWith(2, `${error instanceof Error ? error.message : String(error)}\n${usage}`)
  }
}

// A failure is the exit code; Ctrl-C, an interruption, exits 0 once the connection is closed.
const exitCode: Teardown = (exit, onExit) =>
  onExit(Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause) ? Number(Cause.squash(exit.cause)) || 1 : 0)

program(process.argv.slice(2)).pipe(
  Effect.provide(ShutdownSignals.layer),
  // stdout is the integers: no log line goes there.
  Logger.withMinimumLogLevel(LogLevel.None),
  NodeRuntime.runMain({ disableErrorReporting: true, teardown: exitCode })
)
