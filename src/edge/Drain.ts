/**
 * Shutdown at the edge, once `Listener` has started draining: ask every client to come back
 * later (1012), give the close handshakes a bounded time, then cut off whoever did not answer.
 */
import { Duration, Effect, Schedule } from "effect"
import type { WebSocket } from "ws"
import { closeBy, terminateBy } from "../ops/ServerCloses.js"
import { serviceRestart } from "../wire/CloseCodes.js"

export interface DrainOptions {
  readonly openSockets: Set<WebSocket>
  readonly deadlineMs: number
  /** Whether shutdown (rather than a failed start) is releasing the edge. */
  readonly draining: boolean
  /** Releases a socket's registrations now, without waiting for its close event. */
  readonly release: (socket: WebSocket) => Effect.Effect<void>
}

const closeAll = (openSockets: Set<WebSocket>) =>
  Effect.sync(() => {
    for (const ws of openSockets) closeBy(ws, "shutdown", serviceRestart)
  })

// Finalizers run uninterruptibly; the wait must be interruptible for its deadline to work.
const untilClosed = (openSockets: Set<WebSocket>, deadlineMs: number) =>
  Effect.void.pipe(
    Effect.repeat({ schedule: Schedule.spaced(Duration.millis(10)), until: () => openSockets.size === 0 }),
    Effect.interruptible,
    Effect.timeout(Duration.millis(deadlineMs)),
    Effect.ignore
  )

const cutOffTheRest = (options: DrainOptions) =>
  Effect.gen(function*() {
    const { openSockets } = options
    if (openSockets.size > 0) {
      yield* Effect.logWarning("shutdown deadline reached; cutting off sockets that did not close").pipe(
        Effect.annotateLogs({ sockets: openSockets.size })
      )
    }
    for (const ws of openSockets) terminateBy(ws, "shutdown")
    // Their close events may not have come yet: release the registrations now.
    for (const ws of openSockets) yield* options.release(ws)
  })

export const drain = (options: DrainOptions): Effect.Effect<void> =>
  Effect.gen(function*() {
    if (options.draining) {
      yield* Effect.logInfo(`draining: closing every socket with ${serviceRestart.code}`).pipe(
        Effect.annotateLogs({ sockets: options.openSockets.size, deadlineMs: options.deadlineMs })
      )
    }
    yield* closeAll(options.openSockets)
    yield* untilClosed(options.openSockets, options.deadlineMs)
    yield* cutOffTheRest(options)
  })
