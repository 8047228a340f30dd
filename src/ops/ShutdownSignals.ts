/**
 * `NodeRuntime.runMain` interrupts the program at the first SIGTERM or SIGINT and stops listening,
 * but supervisors signal more than once (a process group gets npm's forwarded copy too), and a
 * signal with no listener kills the process mid-drain. So this listener stays until exit; it only
 * logs the first signal and, once, a repeat.
 */
import { Effect, FiberSet, Layer } from "effect"

export const layer = Layer.scopedDiscard(Effect.gen(function*() {
  const run = yield* FiberSet.makeRuntime<never>()
  let first: NodeJS.Signals | undefined
  let repeatLogged = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (first === undefined) {
      first = signal
      run(Effect.logInfo(`${signal}: shutting down`).pipe(Effect.annotateLogs({ signal })))
    } else if (!repeatLogged) {
      repeatLogged = true
      run(
        Effect.logWarning(
          `${signal} during the shutdown that ${first} began: ignored; the drain goes on, bounded by SHUTDOWN_TIMEOUT_MS`
        ).pipe(Effect.annotateLogs({ signal }))
      )
    }
  }
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, onSignal)
}))
