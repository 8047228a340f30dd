/**
 * Where HTTP becomes WebSocket. The edge owns the Node server's `upgrade` event: it judges each
 * request with `judgeUpgrade`, answers refusals with a real HTTP response, and hands accepted
 * sockets to the registry inside a connection scope of their own.
 *
 * Each connection has a scope of its own, closed by the socket's `close` event,
 * so a socket is released exactly once whether the client leaves, the network fails or the
 * server shuts down. No fiber waits on a connection: the close event does the work.
 */
import { Cause, Duration, Effect, ExecutionStrategy, Exit, Layer, Runtime, Schedule, Scope } from "effect"
import type { IncomingMessage } from "node:http"
import type { Duplex } from "node:stream"
import { WebSocket, WebSocketServer } from "ws"
import { ServerConfig } from "../Config.js"
import { invalidSinceReason, sinceOf } from "../fanout/Resume.js"
import { type Audience, SocketRegistry } from "../fanout/SocketRegistry.js"
import { Lifecycle } from "../http/Lifecycle.js"
import { NodeServer } from "../http/NodeServer.js"
import { ConnectionLog } from "../ops/ConnectionLog.js"
import { closeBy, markServerClose, terminateBy } from "../ops/ServerCloses.js"
import { type Dialect, dialectOf } from "../socketio/SocketIoProtocol.js"
import { SocketIoSessions } from "../socketio/SocketIoSessions.js"
import { serviceRestart } from "../wire/CloseCodes.js"
import { judgeUpgrade, originHeaders, refusalResponse, type UpgradeVerdict } from "../wire/Handshake.js"
import { requestPath } from "../wire/RequestTarget.js"
import { clientAddress } from "./ClientAddress.js"
import { connectionCeiling, readOpenFilesLimit } from "./ConnectionLimit.js"
import { Heartbeat } from "./Heartbeat.js"
import { OpenSockets } from "./OpenSockets.js"

type Refusal = Extract<UpgradeVerdict, { _tag: "Refuse" }>

const draining: Refusal = {
  _tag: "Refuse",
  key: "draining",
  status: 503,
  reason: "Server is shutting down; reconnect shortly"
}
const atCapacity: Refusal = {
  _tag: "Refuse",
  key: "capacity",
  status: 503,
  reason: "Server is at capacity; try again later"
}

const refuse = (socket: Duplex, verdict: Refusal) => {
  if (!socket.writable) return socket.destroy()
  // Destroy once the response is flushed, as a refused client may keep sending.
  socket.once("finish", () => socket.destroy())
  socket.end(refusalResponse(verdict))
}

const ignore = () => {}

export const layer = Layer.scopedDiscard(Effect.gen(function*() {
  const server = yield* NodeServer
  const registry = yield* SocketRegistry
  const lifecycle = yield* Lifecycle
  const heartbeat = yield* Heartbeat
  const config = yield* ServerConfig
  const fdLimit = yield* readOpenFilesLimit
  const maxConnections = connectionCeiling(config.maxConnections, fdLimit)
  if (maxConnections < config.maxConnections) {
    yield* Effect.logWarning(
      `MAX_CONNECTIONS=${config.maxConnections} is above what ${fdLimit} file descriptors allow; using ${maxConnections}`
    )
  }
  const policy = { allowedOrigins: config.allowedOrigins }
  // Kept synchronously at accept and close, so a burst of upgrades cannot overshoot the limit.
  const openSockets = yield* OpenSockets
  const socketIo = yield* SocketIoSessions
  const connectionLog = yield* ConnectionLog
  const remoteOf = (request: IncomingMessage) =>
    clientAddress(request.socket.remoteAddress, request.headers["x-forwarded-for"], config.trustProxyHops)
  const runtime = yield* Effect.runtime<never>()
  const runFork = Runtime.runFork(runtime)
  const runSync = Runtime.runSync(runtime)

  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: config.maxPayloadBytes,
    // Compression would cost a zlib context per socket for a payload of a few bytes.
    perMessageDeflate: false,
    // Heartbeat answers pings itself, so that a peer which does not read cannot pile up pongs.
    autoPong: false
  })

  // Listeners shared by every socket (ws calls them with the socket as `this`), and each
  // connection's scope kept beside its socket: no closure per connection. The scopes are not
  // children of the layer's scope: those would close before the drain below, and no client
  // would see 1012; nor of a common parent, which would hold a finalizer per connection (half
  // a KiB each, measured). Shutdown closes what is left itself.
  const connectionScopes = new WeakMap<WebSocket, Scope.CloseableScope>()
  // Errors from the peer (bad frames, resets) end in a close event; without a listener the
  // process would crash on them. ws reports the frames it refused (and closes the socket for
  // them) with WS_ERR_ codes.
  function onError(this: WebSocket, error: NodeJS.ErrnoException) {
    if (error.code?.startsWith("WS_ERR_")) markServerClose(this, "protocol-error")
  }
  function onClose(this: WebSocket) {
    openSockets.delete(this)
    const scope = connectionScopes.get(this)
    connectionScopes.delete(this)
    if (scope !== undefined) runFork(Scope.close(scope, Exit.void))
  }

  const accept = (ws: WebSocket, dialect: Dialect, since: number | undefined, request: IncomingMessage) => {
    ws.on("error", onError)
    openSockets.add(ws)
    heartbeat.watch(ws)
    connectionLog.opened(ws, {
      path: requestPath(request.url ?? "") ?? "",
      remote: remoteOf(request),
      protocol: dialect._tag === "SocketIo" ? "socket.io" : "plain"
    })
    const connectionScope = runSync(Scope.make(ExecutionStrategy.sequential))
    connectionScopes.set(ws, connectionScope)
    ws.on("close", onClose)
    const join = (audience: Audience) => runFork(Scope.extend(registry.register(ws, audience, since), connectionScope))
    if (dialect._tag === "SocketIo") socketIo.start(ws, () => join("socket.io"))
    else join("plain")
  }

  const judge = (
    request: IncomingMessage
  ): Refusal | { readonly _tag: "Accept"; readonly dialect: Dialect; readonly since: number | undefined } => {
    if (lifecycle.isDraining()) return draining
    const target = request.url ?? ""
    const verdict = judgeUpgrade({
      method: request.method ?? "",
      target,
      httpVersion: request.httpVersion,
      headers: request.headers
    }, policy)
    if (verdict._tag === "Refuse") return verdict
    const dialect = dialectOf(target)
    if (dialect._tag === "Refuse") {
      return {
        _tag: "Refuse",
        key: "engine.io",
        status: dialect.status,
        reason: dialect.body,
        contentType: "application/json"
      }
    }
    const since = sinceOf(target)
    if (since._tag === "Invalid") return { _tag: "Refuse", key: "since", status: 400, reason: invalidSinceReason }
    return openSockets.size >= maxConnections
      ? atCapacity
      : { _tag: "Accept", dialect, since: since._tag === "Since" ? since.after : undefined }
  }

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // First, before anything can fail: a reset during the handshake must not crash the process.
    socket.on("error", ignore)
    try {
      const decision = judge(request)
      if (decision._tag === "Refuse") {
        connectionLog.refused(decision, requestPath(request.url ?? "") ?? "", remoteOf(request))
        return refuse(socket, decision)
      }
      wss.handleUpgrade(request, socket, head, (ws) => accept(ws, decision.dialect, decision.since, request))
    } catch (error) {
      // A bug here must cost one connection, never the process and its other clients.
      socket.destroy()
      runFork(Effect.logError("Upgrade handling failed; connection dropped", Cause.die(error)))
    }
  }

  // The 101 response is a response too: it says it reached the origin like every other.
  wss.on("headers", (headers) => {
    for (const [name, value] of Object.entries(originHeaders)) headers.push(`${name}: ${value}`)
  })
  server.on("upgrade", onUpgrade)

  // Shutdown, once Listener has started draining: ask every client to come back later (1012),
  // give the close handshakes a bounded time, then cut off whoever did not answer.
  yield* Effect.addFinalizer(() =>
    Effect.gen(function*() {
      if (lifecycle.isDraining()) {
        yield* Effect.logInfo("draining: closing every socket with 1012").pipe(
          Effect.annotateLogs({ sockets: openSockets.size, deadlineMs: config.shutdownTimeoutMs })
        )
      }
      for (const ws of openSockets) closeBy(ws, "shutdown", serviceRestart.code, serviceRestart.reason)
      // Finalizers run uninterruptibly; the wait must be interruptible for its deadline to work.
      yield* Effect.void.pipe(
        Effect.repeat({ schedule: Schedule.spaced(Duration.millis(10)), until: () => openSockets.size === 0 }),
        Effect.interruptible,
        Effect.timeout(Duration.millis(config.shutdownTimeoutMs)),
        Effect.ignore
      )
      if (openSockets.size > 0) {
        yield* Effect.logWarning("shutdown deadline reached; cutting off sockets that did not close").pipe(
          Effect.annotateLogs({ sockets: openSockets.size })
        )
      }
      for (const ws of openSockets) terminateBy(ws, "shutdown")
      wss.close()
      // Their close events may not have come yet: release the registrations now.
      for (const ws of openSockets) {
        const scope = connectionScopes.get(ws)
        connectionScopes.delete(ws)
        if (scope !== undefined) yield* Scope.close(scope, Exit.void)
      }
      // Only now: until here, upgrades that arrive while draining still get a 503, not a reset.
      server.off("upgrade", onUpgrade)
    })
  )
}))
