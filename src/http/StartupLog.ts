/** What the process says when it starts, and when it cannot. */
import { Cause, ConfigError, Console, Effect, Layer } from "effect"
import { ListenError, ListeningAddress } from "./Listener.js"
import { tryItCommands } from "./TryIt.js"

export const layer = Layer.effectDiscard(Effect.gen(function*() {
  const { address, localHost, port } = yield* ListeningAddress
  yield* Effect.logInfo(`Integer Forge listening on ${address} port ${port}`)
  for (const command of tryItCommands(`${localHost}:${port}`)) yield* Effect.logInfo(`Try it: ${command}`)
}))

/**
 * One clear line on stderr for a start that failed for a reason the user can fix (bad
 * configuration, port taken); anything else is a bug and gets its full cause.
 */
export const reportStartFailure = <E>(cause: Cause.Cause<E>): Effect.Effect<void> => {
  if (Cause.isInterruptedOnly(cause)) return Effect.void
  const failure = Cause.failureOption(cause)
  if (failure._tag === "Some") {
    const error: unknown = failure.value
    if (ConfigError.isConfigError(error)) return Console.error(`Invalid configuration: ${String(error)}`)
    if (error instanceof ListenError) return Console.error(error.message)
  }
  return Console.error(Cause.pretty(cause))
}
