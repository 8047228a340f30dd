/**
 * The process's termination signals, owned by the program from start to exit.
 *
 * The first SIGTERM or SIGINT interrupts the program, whose finalizers then run in order: for the
 * service that is the drain (every client told 1012, bounded by `SHUTDOWN_TIMEOUT_MS`). Every
 * later one is noted once and changes nothing. Supervisors signal twice as a matter of course:
 * systemd (its default `KillMode=control-group`), Heroku's dyno manager and dumb-init signal the
 * whole process group, so under `npm start` the service gets its own copy and then npm's
 * forwarded one; a terminal's Ctrl-C reaches npm and the program alike. Without a listener,
 * Node's default action for such a signal kills the process at once, and every client loses its
 * connection without a close frame.
 *
 * The listeners are never removed: until the process exits, a signal must find one. This is why
 * neither the service nor the CLI uses `NodeRuntime.runMain`, which removes its own at the first
 * signal.
 */
import { Cause, Deferred, Effect, Exit, Runtime } from "effect"

const terminationSignals = ["SIGTERM", "SIGINT"] as const

/** What is said when the first signal arrives, and at the first repeat. */
export interface SignalNotices {
  readonly first: (signal: NodeJS.Signals) => Effect.Effect<void>
  readonly repeat: (signal: NodeJS.Signals, first: NodeJS.Signals) => Effect.Effect<void>
}

/** The service's: a log line for the signal that starts the shutdown, and one for a repeat. */
export const logged: SignalNotices = {
  first: (signal) => Effect.logInfo(`${signal}: shutting down`).pipe(Effect.annotateLogs({ signal })),
  repeat: (signal, first) =>
    Effect.logWarning(
      `${signal} during the shutdown that ${first} began: ignored; the drain goes on, bounded by SHUTDOWN_TIMEOUT_MS`
    ).pipe(Effect.annotateLogs({ signal }))
}

/** Nothing said: for the CLI, whose stdout is the integers. */
export const silent: SignalNotices = { first: () => Effect.void, repeat: () => Effect.void }

/**
 * Listens for the termination signals for the rest of the process's life, and succeeds with the
 * first one. Notices run on the runtime of the fiber that starts listening (its logger).
 */
const firstSignal = (notices: SignalNotices) =>
  Effect.gen(function*() {
    const received = yield* Deferred.make<NodeJS.Signals>()
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    let first: NodeJS.Signals | undefined
    let repeatNoted = false
    const onSignal = (signal: NodeJS.Signals) => {
      if (first === undefined) {
        first = signal
        Deferred.unsafeDone(received, Exit.succeed(signal))
      } else if (!repeatNoted) {
        repeatNoted = true
        runFork(notices.repeat(signal, first))
      }
    }
    for (const signal of terminationSignals) process.on(signal, onSignal)
    return Deferred.await(received).pipe(Effect.tap(notices.first))
  })

/**
 * Runs `program` until it ends or the first SIGTERM or SIGINT, which interrupts it and waits for
 * its finalizers. The signals are listened for before the program starts, so one that comes
 * during start-up interrupts the start.
 */
export const untilSignal = (notices: SignalNotices) => <A, E, R>(program: Effect.Effect<A, E, R>) =>
  Effect.flatMap(firstSignal(notices), (signalled) => Effect.raceFirst(program, Effect.asVoid(signalled)))

/**
 * Runs the program as the process: exit code 0 once it has ended, 1 when it failed (a program
 * that wants another code sets `process.exitCode` and succeeds). A start that failed has released
 * what it built by then; the process leaves at once rather than wait for handles that are still
 * closing (Node 24 sometimes stayed up after a failed start otherwise: 3 runs in 30 with PORT=abc).
 */
export const runMain = <A, E>(program: Effect.Effect<A, E>): void => {
  // A program that only waits (for a signal, a connection) keeps no event loop alive by itself.
  const keepAlive = setInterval(() => {}, 2 ** 31 - 1)
  const fiber = Effect.runFork(program)
  fiber.addObserver((exit) => {
    clearInterval(keepAlive)
    process.exit(Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause) ? 1 : process.exitCode ?? 0)
  })
}
