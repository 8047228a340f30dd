/**
 * `npm run client -- ws://localhost:3000/_ws/`: prints each integer on a line of its own, as
 * websocat does, and what the connection goes through (reconnects) on stderr. A bad URL or a
 * refused path ends it with one line and a non-zero exit; Ctrl-C ends it cleanly.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Stream } from "effect"
import { events } from "./IntegerClient.js"

const url = process.argv[2]

const program = url === undefined
  ? Console.error("Usage: npm run client -- ws://host:port/_ws/").pipe(Effect.zipRight(Effect.fail(2)))
  : events(url).pipe(
    Stream.runForEach((event) => {
      switch (event._tag) {
        case "Integer":
          return Console.log(event.value)
        case "Connected":
          return Console.error(`connected to ${event.url}`)
        case "Reconnecting":
          return Console.error(`connection ${event.why}; reconnecting in ${event.delayMs} ms`)
      }
    }),
    Effect.catchAll((error) =>
      Console.error(error.message).pipe(Effect.zipRight(Effect.fail(error._tag === "InvalidUrl" ? 2 : 1)))
    )
  )

program.pipe(
  Effect.catchAll((code) => Effect.sync(() => (process.exitCode = code))),
  NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
)
