/**
 * The service's shutdown, the release of `Listener`, in the order it happens (`make`): notice,
 * drain, stop listening; then the layers below release. As clients see it:
 * docs/operations.md#4-deploys-and-shutdown.
 */
import { type Context, Effect, Fiber, FiberSet } from "effect"
import type * as Http from "node:http"
import * as Net from "node:net"
import { ServerConfig, spreadLimitMs } from "../Config.js"
import type { Connection } from "../connection/Connection.js"
import { Connections } from "../connection/Connections.js"
import { Lifecycle } from "../ops/Lifecycle.js"
import { closeCodes, serviceRestart } from "../wire/CloseCodes.js"
import { NodeServer } from "./NodeServer.js"

// While the health check answers 503, a proxy that probes it takes this instance out; until then
// its clients are served as before.
const giveNotice = (open: ReadonlySet<Connection>, noticeMs: number) =>
  Effect.gen(function*() {
    if (noticeMs <= 0 || open.size === 0) return
    yield* Effect.logInfo(`leaving: the health check answers 503; closing sockets in ${noticeMs} ms`).pipe(
      Effect.annotateLogs({ connections: open.size, noticeMs })
    )
    yield* Effect.sleep(noticeMs)
  })

// Closes go out in small batches this far apart, so the spread is smooth without a timer per socket.
const batchEveryMs = 20

/** How many of `total` sockets to have closed after `step` batches, spread evenly over `spreadMs`. */
export const closedAfter = (step: number, total: number, spreadMs: number): number => {
  const batches = Math.max(1, Math.floor(spreadMs / batchEveryMs))
  return Math.min(total, Math.ceil((total * (step + 1)) / batches))
}

const closeAll = (sockets: ReadonlyArray<Connection>, spreadMs: number) =>
  Effect.gen(function*() {
    let closed = 0
    for (let step = 0; closed < sockets.length; step++) {
      if (step > 0) yield* Effect.sleep(batchEveryMs)
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
    const sockets = Array.from(connections.open)
    yield* Effect.logInfo(`draining: closing every socket with ${serviceRestart.code}`).pipe(
      Effect.annotateLogs({ sockets: sockets.length, spreadMs, deadlineMs })
    )
    const started = Date.now()
    yield* closeAll(sockets, spreadMs).pipe(
      Effect.zipRight(connections.allReleased),
      Effect.timeout(deadlineMs),
      Effect.ignore
    )
    yield* cutOffTheRest(connections)
    // The last clients come straight back: still listening, the server answers them 503, where a
    // connection the OS had queued when the listening socket closes would be reset.
    const remainingMs = Math.max(0, deadlineMs - (Date.now() - started))
    if (sockets.length > 0) yield* Effect.sleep(Math.min(lingerMs, remainingMs))
  })

// How long a connection still in a request (a refused upgrade, a scrape) may take to finish.
const closeGraceMs = 1000

/**
 * Closes only the listening socket (`net.Server`'s `close`): Node's own would also drop every
 * connection that has not sent its request yet, one accepted a moment before that must still get
 * its answer (an upgrade its 503). What is left open is ended after a grace.
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
