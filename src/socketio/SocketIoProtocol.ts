/**
 * Engine.IO v4 with Socket.IO v5 on top, as far as this service needs it, as pure code: the
 * official parsers encode and decode, this module decides what a client's packet means. Over
 * WebSocket a frame is one Engine.IO packet, its type digit then its data (`2` ping, `3` pong),
 * and a Socket.IO packet rides in a message: `40` connect to "/", `42["integer",7,"7"]` an event.
 */
import { decodePacket, encodePacket, type Packet as EnginePacket } from "engine.io-parser"
import { Decoder, Encoder, type Packet as SocketIoPacket, PacketType } from "socket.io-parser"
import { binaryUnsupported, clientClosed, clientLeft, type Close, malformedPacket } from "../wire/CloseCodes.js"
import { Encoding } from "../wire/Encoding.js"
import { wholeTextFrame } from "../wire/Frames.js"
import { queryOf, requestPath } from "../wire/RequestTarget.js"

// Engine.IO's own error codes, as a Socket.IO server answers a bad handshake.
const engineErrors = { transportUnknown: 0, sessionIdUnknown: 1, unsupportedProtocolVersion: 5 } as const

/** Which protocol a request on an allowed path speaks, or why it cannot be served. */
export type Dialect =
  | { readonly _tag: "Plain" }
  | { readonly _tag: "SocketIo" }
  | { readonly _tag: "Refuse"; readonly status: number; readonly body: string }

const engineError = (code: number, message: string): Dialect => ({
  _tag: "Refuse",
  status: 400,
  body: JSON.stringify({ code, message })
})

const plain: Dialect = { _tag: "Plain" }
const socketIo: Dialect = { _tag: "SocketIo" }

/**
 * The dialect of a request target. Only a request under `/socket.io/` whose query names an
 * Engine.IO revision (`EIO=…`) is a Socket.IO client; everything else gets bare integers, so
 * `websocat ws://host/socket.io/` keeps working.
 */
export const dialectOf = (target: string): Dialect => {
  const path = requestPath(target)
  if (path === undefined || !path.startsWith("/socket.io/")) return plain
  const query = queryOf(target)
  const revision = query.get("EIO")
  if (revision === null) return plain
  if (revision !== "4") {
    return engineError(
      engineErrors.unsupportedProtocolVersion,
      `Unsupported protocol version EIO=${revision}: this server speaks Engine.IO 4 (socket.io-client 3 or later)`
    )
  }
  if (query.get("sid") !== null) {
    return engineError(
      engineErrors.sessionIdUnknown,
      "Session ID unknown: there are no long-polling sessions here to upgrade"
    )
  }
  const transport = query.get("transport")
  if (transport === "websocket") return socketIo
  if (transport === "polling" || transport === null) {
    return engineError(
      engineErrors.transportUnknown,
      "Transport unknown: long-polling is not available on this platform (no sticky sessions); " +
        "connect with transports: [\"websocket\"]"
    )
  }
  return engineError(engineErrors.transportUnknown, "Transport unknown")
}

// Both parsers hand over string packets synchronously; these wrappers make that a return value.
const encodeEngine = (packet: EnginePacket): string => {
  let encoded = ""
  encodePacket(packet, false, (data: unknown) => {
    encoded = String(data)
  })
  return encoded
}

const socketIoEncoder = new Encoder()
const encodeSocketIo = (packet: SocketIoPacket): string => String(socketIoEncoder.encode(packet)[0])

const decodeSocketIo = (text: string): SocketIoPacket | undefined => {
  const decoder = new Decoder()
  let decoded: SocketIoPacket | undefined
  decoder.on("decoded", (packet: SocketIoPacket) => {
    decoded = packet
  })
  try {
    decoder.add(text)
  } catch {
    return undefined
  } finally {
    decoder.destroy()
  }
  return decoded
}

/** The first packet of a session: its id, no transport upgrades, and the heartbeat terms. */
export const openPacket = (
  sid: string,
  settings: { readonly pingIntervalMs: number; readonly pingTimeoutMs: number; readonly maxPayloadBytes: number }
): string =>
  encodeEngine({
    type: "open",
    data: JSON.stringify({
      sid,
      upgrades: [],
      pingInterval: settings.pingIntervalMs,
      pingTimeout: settings.pingTimeoutMs,
      maxPayload: settings.maxPayloadBytes
    })
  })

export const pingPacket: string = encodeEngine({ type: "ping" })

/**
 * `42["integer",n,"n"]`: the number first, for `socket.on("integer", (n) => …)`; the last argument,
 * a string, is what socket.io-client keeps as its offset for recovery (`Recovery.ts`).
 */
export const integerEvent = (n: number): string =>
  encodeEngine({
    type: "message",
    data: encodeSocketIo({ type: PacketType.EVENT, nsp: "/", data: ["integer", n, String(n)] })
  })

export const socketIoEncoding = new Encoding((n) => wholeTextFrame(Buffer.from(integerEvent(n))))

/** The answer to a client that joins "/": its session id, and the `pid` it recovers by (`Recovery.ts`). */
export const connectAnswer = (sid: string, pid: string): string =>
  encodeEngine({ type: "message", data: encodeSocketIo({ type: PacketType.CONNECT, nsp: "/", data: { sid, pid } }) })

/** What a session does in answer to a client's packet. */
export type Reaction =
  | { readonly _tag: "Send"; readonly packet: string }
  /** The client joined "/" with this CONNECT payload (socket.io-client's pid and offset, its `auth`). */
  | { readonly _tag: "Join"; readonly payload: unknown }
  | { readonly _tag: "Pong" }
  | { readonly _tag: "Close"; readonly code: number; readonly reason: string }

type SessionState = { readonly joined: boolean }

export const initialSession: SessionState = { joined: false }

const send = (packet: string): Reaction => ({ _tag: "Send", packet })
const close = (why: Close): Reaction => ({ _tag: "Close", code: why.code, reason: why.reason })
const malformed = close(malformedPacket)
const binary = close(binaryUnsupported)

/** What a client's frame means; `text` is undefined for a binary frame. */
export const receive = (
  state: SessionState,
  text: string | undefined
): { readonly state: SessionState; readonly reactions: ReadonlyArray<Reaction> } => {
  const none = { state, reactions: [] }
  if (text === undefined) return { state, reactions: [binary] }
  const packet = decodePacket(text)
  switch (packet.type) {
    case "pong":
      return { state, reactions: [{ _tag: "Pong" }] }
    case "ping":
      // Clients ping only to probe a transport upgrade; answering keeps the protocol whole.
      return { state, reactions: [send(encodeEngine({ type: "pong", data: packet.data }))] }
    case "close":
      return { state, reactions: [close(clientClosed)] }
    case "noop":
    case "upgrade":
      return none
    case "message":
      break
    default:
      return { state, reactions: [malformed] }
  }
  if (typeof packet.data !== "string") return { state, reactions: [binary] }
  // socket.io-parser reads the type with Number(), so " 0" or "\t" would pass for a connect;
  // a packet must start with its type digit.
  if (!/^[0-6]/.test(packet.data)) return { state, reactions: [malformed] }
  const message = decodeSocketIo(packet.data)
  if (message === undefined) return { state, reactions: [malformed] }
  switch (message.type) {
    case PacketType.CONNECT: {
      if (message.nsp !== "/") {
        const refusal = encodeSocketIo({
          type: PacketType.CONNECT_ERROR,
          nsp: message.nsp,
          data: { message: "Invalid namespace" }
        })
        return { state, reactions: [send(encodeEngine({ type: "message", data: refusal }))] }
      }
      if (state.joined) return none
      return { state: { joined: true }, reactions: [{ _tag: "Join", payload: message.data }] }
    }
    case PacketType.DISCONNECT:
      return message.nsp === "/" ? { state, reactions: [close(clientLeft)] } : none
    case PacketType.CONNECT_ERROR:
      return { state, reactions: [malformed] }
    default:
      // Events and acks from clients: the service reads nothing from them.
      return none
  }
}
