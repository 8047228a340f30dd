/**
 * Socket.IO clients on the WebSocket transport: the live side of `SocketIoProtocol`. Engine.IO's
 * heartbeat is the server's to drive: a client that hears no ping for `pingInterval + pingTimeout`
 * gives up on the server, so the pings must keep coming whether or not anything else is sent.
 */
import { Context, Duration, Effect, Layer } from "effect"
import { randomBytes } from "node:crypto"
import { ServerConfig } from "../Config.js"
import type { Transport } from "../connection/Connection.js"
import { Connections } from "../connection/Connections.js"
import { IntegerForge, sequenceNameOf } from "../forge/IntegerForge.js"
import { closeCodes, noNamespaceJoined } from "../wire/CloseCodes.js"
import { wholeTextFrame } from "../wire/Frames.js"
import { namesSequence } from "../wire/ResumePoint.js"
import { answerPid, recoveryOf, resumeAfter } from "./Recovery.js"
import { connectAnswer, openPacket, pingPacket, socketIoEncoding } from "./SocketIoProtocol.js"
import { type Client, SocketIoSession } from "./SocketIoSession.js"

// 15 random bytes: a 20-character id, as unguessable as Engine.IO's own.
const newSid = () => randomBytes(15).toString("base64url")

// Every Engine.IO packet goes out as one text frame, written like the fan-out's.
const send = (session: SocketIoSession, packet: string) => {
  if (session.isOpen) session.write(wholeTextFrame(Buffer.from(packet)))
}

// A client that never joins "/" would hold a place under MAX_CONNECTIONS and receive nothing.
// Shared by every session, so that a session's deadline costs no closure of its own.
const unlessJoined = (session: SocketIoSession) => {
  if (!session.joined) session.closeBy("socket.io-protocol", noNamespaceJoined)
}

export class SocketIoSessions extends Context.Tag("IntegerForge/SocketIoSessions")<SocketIoSessions, {
  /** A session on an accepted socket; the socket's close event must release it (`Connections.release`). */
  readonly start: <S>(socket: S, transport: Transport<S>, client: Client) => SocketIoSession<S>
  readonly receive: (session: SocketIoSession, data: Buffer, isBinary: boolean) => void
}>() {
  static readonly layer = Layer.scoped(SocketIoSessions, Effect.suspend(() => make))
}

const make = Effect.gen(function*() {
  const config = yield* ServerConfig
  const connections = yield* Connections
  const forge = yield* IntegerForge
  const ours = (name: string) => namesSequence(name, sequenceNameOf(forge), forge.sequence === undefined)
  const settings = {
    pingIntervalMs: config.socketIoPingIntervalMs,
    // The sweep below checks pongs within one interval, so the timeout cannot be longer.
    pingTimeoutMs: Math.min(config.socketIoPingTimeoutMs, config.socketIoPingIntervalMs),
    maxPayloadBytes: config.maxPayloadBytes
  }

  const live = new Set<SocketIoSession>()
  const pingAll = Effect.sync(() => {
    for (const session of live) {
      if (!session.isOpen) continue
      session.pinged()
      send(session, pingPacket)
    }
  })
  const dropSilent = Effect.sync(() => {
    for (const session of live) session.dropIfSilent("socket.io-ping-timeout")
  })
  yield* Effect.forkScoped(Effect.forever(Effect.gen(function*() {
    yield* pingAll
    yield* Effect.sleep(Duration.millis(settings.pingTimeoutMs))
    yield* dropSilent
    yield* Effect.sleep(Duration.millis(settings.pingIntervalMs - settings.pingTimeoutMs))
  })))

  // The CONNECT answer goes out first, with the pid that says whether the client recovered,
  // once the fan-out has said where the session starts; the replay and live integers follow.
  const joinNamespace = (session: SocketIoSession, payload: unknown) => {
    const recovery = recoveryOf(payload, ours)
    connections.join(session, () => socketIoEncoding, resumeAfter(recovery, session.since), (startsAfter, name) => {
      send(session, connectAnswer(newSid(), answerPid(recovery, name, startsAfter)))
    })
  }

  const start = <S>(socket: S, transport: Transport<S>, client: Client) => {
    const session = new SocketIoSession(socket, transport, client, live)
    connections.accept(session)
    session.after(settings.pingTimeoutMs, unlessJoined)
    send(session, openPacket(newSid(), settings))
    return session
  }

  const receiveMessage = (session: SocketIoSession, data: Buffer, isBinary: boolean) => {
    for (const reaction of session.receive(isBinary ? undefined : String(data))) {
      switch (reaction._tag) {
        case "Send":
          send(session, reaction.packet)
          break
        case "Join":
          joinNamespace(session, reaction.payload)
          break
        case "Pong":
          session.answered()
          break
        case "Close":
          // A client that sends close or leaves "/" ends its own session.
          if (reaction.code === closeCodes.normal) session.close(reaction)
          else session.closeBy("socket.io-protocol", reaction)
          break
      }
    }
  }
  return { start, receive: receiveMessage }
})
