/**
 * Where HTTP becomes WebSocket. The edge owns the Node server's `upgrade` event: it decides on
 * each request with `admit`, answers refusals with a real HTTP response, and hands accepted
 * sockets to the registry (plain clients at once, Socket.IO clients once they join "/"); a
 * socket's close event takes it out again. Its release is the drain of `Drain.ts`.
 */
import { Cause, Effect, Layer, Runtime } from "effect"
import type { IncomingMessage } from "node:http"
import type { Duplex } from "node:stream"
import { type WebSocket, WebSocketServer } from "ws"
import { ServerConfig } from "../Config.js"
import { type Audience, SocketRegistry } from "../fanout/SocketRegistry.js"
import { IntegerForge } from "../forge/IntegerForge.js"
import { Lifecycle } from "../http/Lifecycle.js"
import { answerAndClose, NodeServer } from "../http/NodeServer.js"
import { ConnectionLog } from "../ops/ConnectionLog.js"
import { markServerClose } from "../ops/ServerCloses.js"
import { integerEvent } from "../socketio/SocketIoProtocol.js"
import { SocketIoSessions } from "../socketio/SocketIoSessions.js"
import { refusal } from "../wire/Handshake.js"
import { originHeaders, sequenceHeader } from "../wire/HttpResponse.js"
import { requestPath } from "../wire/RequestTarget.js"
import { plainIntegerFrame } from "../wire/WholeNumber.js"
import { type Admission, admit } from "./Admission.js"
import { clientAddress } from "./ClientAddress.js"
import { MaxConnections } from "./ConnectionLimit.js"
import { drain } from "./Drain.js"
import { EventStreams } from "./EventStreams.js"
import { Heartbeat } from "./Heartbeat.js"
import { OpenSockets } from "./OpenSockets.js"

/** Plain WebSocket clients: each integer as its digits. */
export const plainAudience: Audience = { encode: plainIntegerFrame }
/** Socket.IO clients that joined "/": each integer as an `integer` event. */
export const socketIoAudience: Audience = { encode: (n) => Buffer.from(integerEvent(n)) }

const ignore = () => {}

// Errors from the peer (bad frames, resets) end in a close event; without a listener the process
// would crash on them. ws reports the frames it refused (and closes the socket for them) with
// WS_ERR_ codes. Shared by every socket: ws calls it with the socket as `this`.
function onSocketError(this: WebSocket, error: NodeJS.ErrnoException) {
  if (error.code?.startsWith("WS_ERR_")) markServerClose(this, "protocol-error")
}

const makeWebSocketServer = (maxPayload: number, sequence: string | undefined) => {
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload,
    // Compression would cost a zlib context per socket for a payload of a few bytes.
    perMessageDeflate: false,
    // Heartbeat answers pings itself, so that a peer which does not read cannot pile up pongs.
    autoPong: false
  })
  // The 101 response is a response too: it says it reached the origin like every other.
  const extraHeaders = Object.entries(originHeaders).map(([name, value]) => `${name}: ${value}`)
  if (sequence !== undefined) extraHeaders.push(`${sequenceHeader}: ${sequence}`)
  wss.on("headers", (headers) => {
    headers.push(...extraHeaders)
  })
  return wss
}

/** The edge's machinery: what to do with an upgrade request, and how to let every socket go. */
export const make = Effect.gen(function*() {
  const registry = yield* SocketRegistry
  const lifecycle = yield* Lifecycle
  const heartbeat = yield* Heartbeat
  const config = yield* ServerConfig
  const openSockets = yield* OpenSockets
  const socketIo = yield* SocketIoSessions
  const connectionLog = yield* ConnectionLog
  const streams = yield* EventStreams
  const maxConnections = yield* MaxConnections
  const runFork = Runtime.runFork(yield* Effect.runtime<never>())
  // Shared by every socket: ws calls it with the socket as `this`, so no closure per connection.
  function onClose(this: WebSocket) {
    openSockets.delete(this)
    registry.leave(this)
  }
  const wss = makeWebSocketServer(config.maxPayloadBytes, (yield* IntegerForge).sequence)
  const policy = { allowedOrigins: config.allowedOrigins }

  const remoteOf = (request: IncomingMessage) =>
    clientAddress(request.socket.remoteAddress, request.headers["x-forwarded-for"], config.trustProxyHops)
  const pathOf = (request: IncomingMessage) => requestPath(request.url ?? "") ?? ""

  const accept = (ws: WebSocket, admission: Extract<Admission, { _tag: "Accept" }>, request: IncomingMessage) => {
    ws.on("error", onSocketError)
    // Kept synchronously at accept and close, so a burst of upgrades cannot overshoot the limit.
    openSockets.add(ws)
    heartbeat.watch(ws)
    const socketIoClient = admission.dialect._tag === "SocketIo"
    connectionLog.opened(ws, {
      path: pathOf(request),
      remote: remoteOf(request),
      protocol: socketIoClient ? "socket.io" : "plain"
    })
    ws.on("close", onClose)
    if (socketIoClient) {
      socketIo.start(ws, admission.since, (since, opening) => registry.join(ws, socketIoAudience, since, opening))
    } else registry.join(ws, plainAudience, admission.since)
  }

  const admissionOf = (request: IncomingMessage) =>
    admit(
      {
        method: request.method ?? "",
        target: request.url ?? "",
        httpVersion: request.httpVersion,
        headers: request.headers
      },
      policy,
      { draining: lifecycle.phase() === "draining", openSockets: openSockets.size + streams.size(), maxConnections }
    )

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // First, before anything can fail: a reset during the handshake must not crash the process.
    socket.on("error", ignore)
    try {
      const admission = admissionOf(request)
      if (admission._tag === "Refuse") {
        connectionLog.refused(admission, pathOf(request), remoteOf(request))
        return answerAndClose(socket, refusal(admission))
      }
      wss.handleUpgrade(request, socket, head, (ws) => accept(ws, admission, request))
    } catch (error) {
      // A bug here must cost one connection, never the process and its other clients.
      socket.destroy()
      runFork(Effect.logError("Upgrade handling failed; connection dropped", Cause.die(error)))
    }
  }

  const close = Effect.suspend(() =>
    drain({
      openSockets,
      deadlineMs: config.shutdownTimeoutMs,
      spreadMs: config.shutdownSpreadMs,
      shutdown: lifecycle.phase() !== "serving",
      noticeMs: config.shutdownNoticeMs,
      connections: () => openSockets.size + streams.size(),
      refuseNew: lifecycle.beginDraining,
      release: (ws) => Effect.sync(() => registry.leave(ws))
    })
  ).pipe(Effect.zipRight(Effect.sync(() => wss.close())))

  return { onUpgrade, close }
})

export const layer = Layer.scopedDiscard(Effect.gen(function*() {
  const server = yield* NodeServer
  const edge = yield* make
  server.on("upgrade", edge.onUpgrade)
  // The upgrade listener stays until the Node server itself closes: an upgrade that arrives at
  // any moment of the drain gets a 503, never a reset.
  yield* Effect.addFinalizer(() => edge.close)
}))
