/**
 * `NodeRuntime.runMain` interrupts the program at the first SIGTERM or SIGINT, and stops
 * listening. Supervisors signal more than once (systemd and dumb-init signal the whole process
 * group, so under `npm start` the service gets its own copy and npm's forwarded one; Ctrl-C
 * reaches npm and the program alike), and a signal that finds no listener kills the process by
 * Node's default action, mid-drain. So this listener stays until the process exits: it logs the
 * first signal and, once, a repeat, and does nothing else.
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
