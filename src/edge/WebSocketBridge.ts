/**
 * The one module that knows ws from the inside: the transport of a WebSocket connection, the
 * listeners every accepted socket shares, and ws's server for handshakes. Nothing else in the
 * service touches a ws `WebSocket`; everything else sees a `Connection`.
 *
 * The frame path is decided here, once: the fan-out's bytes are whole frames, built once per
 * integer, and they are written straight to the TCP socket under the `WebSocket` (its private
 * `_socket`), which leaves nothing per socket but the write; `send` would frame every message
 * again. ws is pinned to one version in package.json for it, and test/service/FramePath.test.ts
 * fails if the field is gone. Safe beside ws's own writes (pings, pongs, close frames) because
 * every write is a whole frame and, without compression, ws queues nothing of its own.
 */
import type { Context } from "effect"
import type { IncomingMessage } from "node:http"
import type { Duplex } from "node:stream"
import { WebSocket, WebSocketServer } from "ws"
import { Connection, type Transport } from "../connection/Connection.js"
import type { Connections } from "../connection/Connections.js"
import { SocketIoSession } from "../socketio/SocketIoSession.js"
import type { SocketIoSessions } from "../socketio/SocketIoSessions.js"
import { plainAudience, wholeTextFrame } from "../wire/Frames.js"
import { originHeaders, sequenceHeader } from "../wire/HttpResponse.js"
import { type ResumePoint, sequenceAnnouncement } from "../wire/ResumePoint.js"

/** ws's private field: the TCP socket of an accepted `WebSocket`. */
interface WithTcpSocket {
  readonly _socket: { write(data: Buffer): boolean }
}

export const webSocketTransport: Transport<WebSocket> = {
  write: (ws, bytes) => void (ws as unknown as WithTcpSocket)._socket.write(bytes),
  bufferedAmount: (ws) => ws.bufferedAmount,
  isOpen: (ws) => ws.readyState === WebSocket.OPEN,
  close: (ws, close) => ws.close(close.code, close.reason),
  terminate: (ws) => ws.terminate(),
  ping: (ws) => ws.ping()
}

// The connection a socket belongs to, kept on the socket itself, as ws keeps its own state.
const connectionKey = Symbol("IntegerForge/Connection")
interface Adopted {
  [connectionKey]: Connection<WebSocket>
}
const connectionOf = (ws: WebSocket): Connection<WebSocket> => (ws as unknown as Adopted)[connectionKey]

/** ws's server, for handshakes only: the edge decides on each request before it gets one. */
const makeWebSocketServer = (maxPayload: number, sequence: string | undefined) => {
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload,
    // Compression would cost a zlib context per socket for a payload of a few bytes.
    perMessageDeflate: false,
    // The bridge answers pings itself, so that a peer which does not read cannot pile up pongs.
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

/** What the edge decided about an upgrade it accepts: who the client is and what it speaks. */
export interface Accepted {
  readonly path: string
  readonly remote: string
  readonly socketIo: boolean
  /** Where the client stands, when it resumes. */
  readonly since: ResumePoint | undefined
  /** Whether a plain client asks to be told the sequence's name. */
  readonly asksSequenceName: boolean
}

/**
 * Completes accepted handshakes, turns the sockets into connections and hands them to
 * `Connections`. The listeners are shared by every socket (ws calls them with the socket as
 * `this`), so that a connection costs no closure of its own.
 */
export const makeBridge = (
  connections: Context.Tag.Service<Connections>,
  sessions: Context.Tag.Service<SocketIoSessions>,
  settings: {
    readonly maxPayloadBytes: number
    readonly maxBufferedBytes: number
    /** The forge's sequence, said in every 101 response. */
    readonly sequence: string | undefined
    /** The name a client resumes in (`sequenceNameOf`). */
    readonly sequenceName: string
  }
) => {
  const { maxBufferedBytes } = settings
  const wss = makeWebSocketServer(settings.maxPayloadBytes, settings.sequence)
  const nameFrame = wholeTextFrame(Buffer.from(sequenceAnnouncement(settings.sequenceName)))
  // Errors from the peer (bad frames, resets) end in a close event; without a listener the
  // process would crash on them. ws reports the frames it refused (and closes the socket for
  // them) with WS_ERR_ codes.
  function onError(this: WebSocket, error: NodeJS.ErrnoException) {
    if (error.code?.startsWith("WS_ERR_")) connectionOf(this).markServerClose("protocol-error")
  }
  function onClose(this: WebSocket, code: number) {
    connections.closed(connectionOf(this), code)
  }
  function onPong(this: WebSocket) {
    connectionOf(this).unanswered = false
  }
  // ws would answer every ping by itself; a client that floods pings without reading the pongs
  // would then grow our buffers without bound.
  function onPing(this: WebSocket, data: Buffer) {
    const connection = connectionOf(this)
    if (!connection.isOpen) return
    if (connection.bufferedAmount > maxBufferedBytes) connection.shed()
    else this.pong(data)
  }
  function onMessage(this: WebSocket, data: Buffer, isBinary: boolean) {
    sessions.receive(connectionOf(this) as SocketIoSession<WebSocket>, data, isBinary)
  }

  const adopt = (ws: WebSocket, connection: Connection<WebSocket>) => {
    ;(ws as unknown as Adopted)[connectionKey] = connection
    ws.on("error", onError)
    connections.accept(connection)
    ws.on("close", onClose)
    ws.on("pong", onPong)
    ws.on("ping", onPing)
  }

  // A plain client is in the fan-out at once; a Socket.IO client once it joins "/".
  const accept = (ws: WebSocket, accepted: Accepted) => {
    const { path, remote, since } = accepted
    if (!accepted.socketIo) {
      const connection = new Connection("plain", path, remote, ws, webSocketTransport)
      adopt(ws, connection)
      const announce = accepted.asksSequenceName ? () => connection.write(nameFrame) : undefined
      return connections.join(connection, plainAudience, since, announce)
    }
    const session = new SocketIoSession(path, remote, ws, webSocketTransport, since)
    adopt(ws, session)
    ws.on("message", onMessage)
    sessions.start(session)
  }

  /** The WebSocket handshake of an upgrade the edge accepted, and the connection it becomes. */
  const upgrade = (request: IncomingMessage, socket: Duplex, head: Buffer, accepted: Accepted) =>
    wss.handleUpgrade(request, socket, head, (ws) => accept(ws, accepted))

  return { upgrade }
}
