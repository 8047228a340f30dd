/**
 * The service's shutdown, in the order it happens. It is the release of `Listener`: whatever
 * listened shuts down this way, whether the first SIGTERM or SIGINT interrupted the program or a
 * test released the server.
 *
 * 1. Notice: the health check answers 503. While anyone is connected the service goes on serving
 *    for `SHUTDOWN_NOTICE_MS`, so that a proxy that probes it stops routing here before the
 *    clients come back.
 * 2. Drain: new upgrades and streams are refused (503); every client is asked to come back (1012),
 *    spread over `SHUTDOWN_SPREAD_MS` so that they do not all come back in the same moment; whoever
 *    has not closed within `SHUTDOWN_TIMEOUT_MS` is cut off; the server listens 0.5 s more.
 * 3. Close: the server stops listening; what is still open 1 s later is ended.
 * 4. Exit: the layers below release (the fan-out, then the forge), and `runMain` exits 0.
 */
import { type Context, Duration, Effect, Fiber, FiberSet } from "effect"
import type * as Http from "node:http"
import * as Net from "node:net"
import { ServerConfig, spreadLimitMs } from "../Config.js"
import type { Connection } from "../connection/Connection.js"
import { Connections } from "../connection/Connections.js"
import { Lifecycle } from "../ops/Lifecycle.js"
import { closeCodes, serviceRestart } from "../wire/CloseCodes.js"
import { NodeServer } from "./NodeServer.js"

// While the health check answers 503, a proxy that probes it takes this instance out; until then
// it keeps sending clients here, and they are served as before.
const giveNotice = (open: ReadonlySet<Connection>, noticeMs: number) =>
  Effect.gen(function*() {
    if (noticeMs <= 0 || open.size === 0) return
    yield* Effect.logInfo(`leaving: the health check answers 503; closing sockets in ${noticeMs} ms`).pipe(
      Effect.annotateLogs({ connections: open.size, noticeMs })
    )
    yield* Effect.sleep(Duration.millis(noticeMs))
  })

// Closes go out in small batches this far apart, so the spread is smooth without a timer per socket.
const batchEveryMs = 20

/**
 * How many of `total` sockets to have closed after `step` batches, spread evenly over `spreadMs`:
 * all of them by the last batch, never more than there are.
 */
export const closedAfter = (step: number, total: number, spreadMs: number): number => {
  const batches = Math.max(1, Math.floor(spreadMs / batchEveryMs))
  return Math.min(total, Math.ceil((total * (step + 1)) / batches))
}

const closeAll = (sockets: ReadonlyArray<Connection>, spreadMs: number) =>
  Effect.gen(function*() {
    let closed = 0
    for (let step = 0; closed < sockets.length; step++) {
      if (step > 0) yield* Effect.sleep(Duration.millis(batchEveryMs))
      const upTo = closedAfter(step, sockets.length, spreadMs)
      for (; closed < upTo; closed++) sockets[closed]!.closeBy("shutdown", serviceRestart)
    }
  })

const cutOffTheRest = (connections: Context.Tag.Service<Connections>) =>
  Effect.gen(function*() {
    const left = Array.from(connections.open)
    if (left.length === 0) return
    yield* Effect.logWarning("shutdown deadline reached; cutting off sockets that did not close").pipe(
      Effect.annotateLogs({ sockets: left.length })
    )
    for (const connection of left) connection.terminateBy("shutdown")
    // Their close events may not have come yet: release them now, once each.
    for (const connection of left) connections.release(connection, connection.sentCode ?? closeCodes.abnormal)
  })

/** How long the server stays listening, answering 503, once its last socket has closed. */
const lingerMs = 500

const drain = (connections: Context.Tag.Service<Connections>, deadlineMs: number, spreadMs: number) =>
  Effect.gen(function*() {
    // The connections open now: no new one is admitted while draining.
    const sockets = Array.from(connections.open)
    yield* Effect.logInfo(`draining: closing every socket with ${serviceRestart.code}`).pipe(
      Effect.annotateLogs({ sockets: sockets.length, spreadMs, deadlineMs })
    )
    const started = Date.now()
    yield* closeAll(sockets, spreadMs).pipe(
      Effect.zipRight(connections.allReleased),
      Effect.timeout(Duration.millis(deadlineMs)),
      Effect.ignore
    )
    yield* cutOffTheRest(connections)
    // The last clients come straight back as their sockets close: still listening, the server
    // answers them 503 instead of racing them with the listening socket's close (a connection
    // the OS had queued but Node not yet accepted is reset when it closes).
    const remainingMs = Math.max(0, deadlineMs - (Date.now() - started))
    if (sockets.length > 0) yield* Effect.sleep(Duration.millis(Math.min(lingerMs, remainingMs)))
  })

// How long connections still in the middle of a request (a refused upgrade being answered, a
// scrape) may take to finish once the server stops listening.
const closeGraceMs = 1000

/**
 * New connections are refused by the OS from here on. One accepted a moment before still gets its
 * answer (an upgrade its 503) before it closes. Node's own `close` would also drop every
 * connection that has not sent its request yet, which is exactly such a client, so only the
 * listening socket is closed (`net.Server`'s `close`), and whatever is left open is ended after
 * a grace.
 */
const stopListening = (server: Http.Server) =>
  Effect.async<void>((resume) => {
    if (!server.listening) return resume(Effect.void)
    Net.Server.prototype.close.call(server, () => resume(Effect.void))
    const cutOff = setTimeout(() => server.closeAllConnections(), closeGraceMs)
    return Effect.sync(() => clearTimeout(cutOff))
  })

/** The shutdown, ready to run as a release. */
export const make = Effect.gen(function*() {
  const config = yield* ServerConfig
  const lifecycle = yield* Lifecycle
  const connections = yield* Connections
  const server = yield* NodeServer
  const shutdown = Effect.gen(function*() {
    yield* lifecycle.enter("leaving")
    yield* giveNotice(connections.open, config.shutdownNoticeMs)
    yield* lifecycle.enter("draining")
    const spreadMs = Math.min(config.shutdownSpreadMs, spreadLimitMs(config.shutdownTimeoutMs))
    yield* drain(connections, config.shutdownTimeoutMs, spreadMs)
    yield* stopListening(server)
  })
  // In a fiber of its own, which only the deadline cuts short: the fiber that releases the server
  // may already be interrupted (by the signal), and a release runs uninterruptibly.
  const run = yield* FiberSet.makeRuntime<never>()
  return Effect.suspend(() => Fiber.join(run(Effect.interruptible(shutdown))))
})
