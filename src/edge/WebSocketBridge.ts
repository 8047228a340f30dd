/**
 * The one module that knows ws: the WebSocket transports, the listeners every socket shares, and
 * ws's server for handshakes. The fan-out's whole frames go to the TCP socket that the `upgrade`
 * event handed over, beside ws's own whole-frame writes (docs/architecture.md, the frame path).
 */
import { Effect } from "effect"
import type { IncomingMessage } from "node:http"
import type { Duplex } from "node:stream"
import { WebSocket, WebSocketServer } from "ws"
import { ServerConfig } from "../Config.js"
import { Connection, type Transport } from "../connection/Connection.js"
import { Connections } from "../connection/Connections.js"
import { IntegerForge, sequenceNameOf } from "../forge/IntegerForge.js"
import type { Client, SocketIoSession } from "../socketio/SocketIoSession.js"
import { SocketIoSessions } from "../socketio/SocketIoSessions.js"
import { plainEncoding, wholeTextFrame } from "../wire/Frames.js"
import { originHeaders, sequenceHeader } from "../wire/HttpResponse.js"
import { sequenceAnnouncement } from "../wire/ResumePoint.js"

/** An accepted WebSocket, and the TCP socket under it that the `upgrade` event handed over. */
export interface WebSocketPeer {
  readonly ws: WebSocket
  readonly tcp: Duplex
}

// A Socket.IO session is pinged by Engine.IO's heartbeat (`SocketIoSessions`), not by ws's.
const socketIoTransport: Transport<WebSocketPeer> = {
  write: (peer, bytes) => void peer.tcp.write(bytes),
  // ws counts what waits in the TCP socket's buffer too, our frames included.
  bufferedAmount: (peer) => peer.ws.bufferedAmount,
  isOpen: (peer) => peer.ws.readyState === WebSocket.OPEN,
  close: (peer, close) => peer.ws.close(close.code, close.reason),
  terminate: (peer) => peer.ws.terminate()
}
const webSocketTransport: Transport<WebSocketPeer> = { ...socketIoTransport, ping: (peer) => peer.ws.ping() }

// The connection a socket belongs to, kept on the socket itself, as ws keeps its own state.
const connectionKey = Symbol("IntegerForge/Connection")
interface Adopted {
  [connectionKey]: Connection<WebSocketPeer>
}
const connectionOf = (ws: WebSocket): Connection<WebSocketPeer> => (ws as unknown as Adopted)[connectionKey]

type ClientErrorListener = (error: Error, socket: Duplex, request: IncomingMessage) => void

/** ws's server, for handshakes only. */
const makeWebSocketServer = (maxPayload: number, sequence: string | undefined, onClientError: ClientErrorListener) => {
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
  // With a listener, ws leaves the answer to a handshake it refuses to us.
  wss.on("wsClientError", onClientError)
  return wss
}

/** What the edge decided about an upgrade it accepts: who the client is and what it speaks. */
export interface Accepted extends Client {
  readonly socketIo: boolean
  /** Whether a plain client asks to be told the sequence's name. */
  readonly asksSequenceName: boolean
}

/**
 * Completes accepted handshakes and hands the connections to `Connections`. The listeners are
 * shared (ws calls them with the socket as `this`), so that a connection costs no closure.
 */
export const makeBridge = (onClientError: ClientErrorListener) =>
  Effect.gen(function*() {
    const connections = yield* Connections
    const sessions = yield* SocketIoSessions
    const forge = yield* IntegerForge
    const { maxBufferedBytes, maxPayloadBytes } = yield* ServerConfig
    const wss = makeWebSocketServer(maxPayloadBytes, forge.sequence, onClientError)
    // Every client of an instance hears one name, but a restart's (Resume.ts).
    const nameFrame = wholeTextFrame(Buffer.from(sequenceAnnouncement(sequenceNameOf(forge))))
    const nameFrameOf = (sequence: string) =>
      sequence === sequenceNameOf(forge) ? nameFrame : wholeTextFrame(Buffer.from(sequenceAnnouncement(sequence)))
    // Without a listener, a peer's errors (bad frames, resets) would crash the process; they end in
    // a close event. ws reports the frames it refused, closing the socket, with WS_ERR_ codes.
    function onError(this: WebSocket, error: NodeJS.ErrnoException) {
      if (error.code?.startsWith("WS_ERR_")) connectionOf(this).markServerClose("protocol-error")
    }
    function onClose(this: WebSocket, code: number) {
      connections.release(connectionOf(this), code)
    }
    function onPong(this: WebSocket) {
      connectionOf(this).answered()
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
      sessions.receive(connectionOf(this) as SocketIoSession<WebSocketPeer>, data, isBinary)
    }

    const adopt = (ws: WebSocket, connection: Connection<WebSocketPeer>) => {
      ;(ws as unknown as Adopted)[connectionKey] = connection
      ws.on("error", onError)
      ws.on("close", onClose)
      ws.on("pong", onPong)
      ws.on("ping", onPing)
      return connection
    }

    // A plain client is in the fan-out at once; a Socket.IO client once it joins "/".
    const accept = (ws: WebSocket, tcp: Duplex, accepted: Accepted) => {
      const peer: WebSocketPeer = { ws, tcp }
      if (accepted.socketIo) {
        adopt(ws, sessions.start(peer, socketIoTransport, accepted))
        return void ws.on("message", onMessage)
      }
      const connection = adopt(ws, new Connection("plain", accepted.path, accepted.remote, peer, webSocketTransport))
      connections.accept(connection)
      const announce = accepted.asksSequenceName
        ? (_: number, sequence: string) => connection.write(nameFrameOf(sequence))
        : undefined
      connections.join(connection, () => plainEncoding, accepted.since, announce)
    }

    const upgrade = (request: IncomingMessage, socket: Duplex, head: Buffer, accepted: Accepted) =>
      wss.handleUpgrade(request, socket, head, (ws) => accept(ws, socket, accepted))

    return { upgrade }
  })
