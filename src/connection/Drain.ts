/**
 * Shutdown at the edge, once `Listener` has begun it (the health check answers 503): keep
 * serving for `SHUTDOWN_NOTICE_MS` while anyone is connected, so that a proxy with active health
 * checks stops routing here before the clients come back; then refuse new upgrades and streams,
 * ask every client to come back later (1012), spread over `SHUTDOWN_SPREAD_MS` so that they do
 * not all come back in the same moment, give the close handshakes a bounded time, then cut off
 * whoever did not answer. Every close goes out within `SHUTDOWN_TIMEOUT_MS` of the notice's end.
 */
import { Duration, Effect } from "effect"
import { spreadLimitMs } from "../Config.js"
import { serviceRestart } from "../wire/CloseCodes.js"
import type { Connection } from "./Connection.js"

export interface DrainOptions {
  /** Every connection open now, of every kind; each leaves it when it is released. */
  readonly open: ReadonlySet<Connection>
  readonly deadlineMs: number
  /** Over how long the 1012 closes are spread, capped at `spreadLimitMs(deadlineMs)`. */
  readonly spreadMs: number
  /** Whether shutdown (rather than a failed start) is releasing the edge. */
  readonly shutdown: boolean
  /** How long to keep serving, the health check already answering 503, before letting go. */
  readonly noticeMs: number
  /** From here on, new upgrades and streams are refused. */
  readonly refuseNew: Effect.Effect<void>
  /** Releases a connection now, without waiting for its close event. */
  readonly release: (connection: Connection) => void
  /** Done once every connection has been released. */
  readonly allReleased: Effect.Effect<void>
}

/** How long the server stays listening, answering 503, once its last socket has closed. */
export const lingerMs = 500

// Closes go out in small batches this far apart, so the spread is smooth without a timer per socket.
const batchEveryMs = 20

/**
 * How many of `total` sockets to have closed after `step` batches, spread evenly over `spreadMs`:
 * all of them by the last batch, never more than there are. Pure, for the tests.
 */
export const closedAfter = (step: number, total: number, spreadMs: number): number => {
  const batches = Math.max(1, Math.floor(spreadMs / batchEveryMs))
  return Math.min(total, Math.ceil((total * (step + 1)) / batches))
}

const closeAll = (open: ReadonlySet<Connection>, spreadMs: number) =>
  Effect.gen(function*() {
    // The connections open when the drain began: no new one is admitted while draining.
    const sockets = Array.from(open)
    let closed = 0
    for (let step = 0; closed < sockets.length; step++) {
      if (step > 0) yield* Effect.sleep(Duration.millis(batchEveryMs))
      const upTo = closedAfter(step, sockets.length, spreadMs)
      for (; closed < upTo; closed++) sockets[closed]!.closeBy("shutdown", serviceRestart)
    }
  }).pipe(Effect.interruptible)

// Finalizers run uninterruptibly; the wait must be interruptible for its deadline to work.
const untilClosed = (allReleased: Effect.Effect<void>, deadlineMs: number) =>
  allReleased.pipe(Effect.interruptible, Effect.timeout(Duration.millis(deadlineMs)), Effect.ignore)

const cutOffTheRest = (options: DrainOptions) =>
  Effect.gen(function*() {
    const left = Array.from(options.open)
    if (left.length > 0) {
      yield* Effect.logWarning("shutdown deadline reached; cutting off sockets that did not close").pipe(
        Effect.annotateLogs({ sockets: left.length })
      )
    }
    for (const connection of left) connection.terminateBy("shutdown")
    // Their close events may not have come yet: release them now, once each.
    for (const connection of left) options.release(connection)
  })

// While the health check answers 503, a proxy that probes it takes this instance out; until then
// it keeps sending clients here, and they are served as before.
const giveNotice = (options: DrainOptions) =>
  Effect.gen(function*() {
    if (!options.shutdown || options.noticeMs <= 0 || options.open.size === 0) return
    yield* Effect.logInfo(`leaving: the health check answers 503; closing sockets in ${options.noticeMs} ms`).pipe(
      Effect.annotateLogs({ connections: options.open.size, noticeMs: options.noticeMs })
    )
    yield* Effect.sleep(Duration.millis(options.noticeMs)).pipe(Effect.interruptible)
  })

export const drain = (options: DrainOptions): Effect.Effect<void> =>
  Effect.gen(function*() {
    yield* giveNotice(options)
    yield* options.refuseNew
    const spreadMs = Math.min(options.spreadMs, spreadLimitMs(options.deadlineMs))
    if (options.shutdown) {
      yield* Effect.logInfo(`draining: closing every socket with ${serviceRestart.code}`).pipe(
        Effect.annotateLogs({ sockets: options.open.size, spreadMs, deadlineMs: options.deadlineMs })
      )
    }
    const started = Date.now()
    const remainingMs = () => Math.max(0, options.deadlineMs - (Date.now() - started))
    const hadClients = options.open.size > 0
    // Finalizers run uninterruptibly; the spread may be cut short by the deadline like the wait.
    yield* closeAll(options.open, spreadMs).pipe(
      Effect.timeout(Duration.millis(options.deadlineMs)),
      Effect.ignore
    )
    yield* untilClosed(options.allReleased, remainingMs())
    yield* cutOffTheRest(options)
    // The last clients come straight back as their sockets close: still listening, the server
    // answers them 503 instead of racing them with the listening socket's close (a connection
    // the OS had queued but Node not yet accepted is reset when it closes).
    if (hadClients) {
      yield* Effect.sleep(Duration.millis(Math.min(lingerMs, remainingMs()))).pipe(Effect.interruptible)
    }
  })
