/**
 * Socket.IO clients on the WebSocket transport: the live side of `SocketIoProtocol`. Each session
 * gets its open packet, has its packets answered, and joins the fan-out once it connects to "/",
 * where it resumes by its recovery claim (`Recovery.ts`) or the URL's `?since=`.
 *
 * Engine.IO's heartbeat is the server's to drive: one fiber pings every session each
 * `pingInterval` and, `pingTimeout` later, cuts off the sessions that did not answer. A client
 * that hears no ping for `pingInterval + pingTimeout` gives up on the server, so the pings must
 * keep coming whether or not anything else is sent.
 */
import { Context, Duration, Effect, Layer } from "effect"
import { randomBytes } from "node:crypto"
import { WebSocket } from "ws"
import { ServerConfig } from "../Config.js"
import { IntegerForge, sequenceNameOf } from "../forge/IntegerForge.js"
import { closeBy, terminateBy } from "../ops/ServerCloses.js"
import { closeCodes, noNamespaceJoined } from "../wire/CloseCodes.js"
import { answerPid, claimOf, resumeAfter } from "./Recovery.js"
import {
  connectAnswer,
  initialSession,
  openPacket,
  pingPacket,
  receive,
  type SessionState
} from "./SocketIoProtocol.js"

interface Session {
  state: SessionState
  awaitingPong: boolean
  /** The URL's `?since=`, for a client's first connection. */
  readonly since: number | undefined
}

/**
 * Joins the fan-out, after the integers since `since`; `opening` is told where the socket starts
 * before any of them is written (the registry's `join`, for this socket).
 */
export type Join = (since: number | undefined, opening: (startsAfter: number) => void) => void

// 15 random bytes: a 20-character id, as unguessable as Engine.IO's own.
const newSid = () => randomBytes(15).toString("base64url")

export class SocketIoSessions extends Context.Tag("IntegerForge/SocketIoSessions")<SocketIoSessions, {
  /**
   * Speaks Socket.IO on an accepted socket, asked for with `?since=` (or not); `join` runs once,
   * when the client joins "/".
   */
  readonly start: (socket: WebSocket, since: number | undefined, join: Join) => void
}>() {
  static readonly layer = Layer.scoped(
    SocketIoSessions,
    Effect.gen(function*() {
      const config = yield* ServerConfig
      const sequence = sequenceNameOf(yield* IntegerForge)
      const settings = {
        pingIntervalMs: config.socketIoPingIntervalMs,
        // The sweep below checks pongs within one interval, so the timeout cannot be longer.
        pingTimeoutMs: Math.min(config.socketIoPingTimeoutMs, config.socketIoPingIntervalMs),
        maxPayloadBytes: config.maxPayloadBytes
      }
      const sessions = new Map<WebSocket, Session>()

      const pingAll = Effect.sync(() => {
        for (const [socket, session] of sessions) {
          if (socket.readyState !== WebSocket.OPEN) continue
          session.awaitingPong = true
          socket.send(pingPacket)
        }
      })
      // No close frame: a client that stopped answering pings would not answer it either.
      const dropSilent = Effect.sync(() => {
        for (const [socket, session] of sessions) {
          if (session.awaitingPong) terminateBy(socket, "socket.io-ping-timeout")
        }
      })
      yield* Effect.forkScoped(Effect.forever(Effect.gen(function*() {
        yield* pingAll
        yield* Effect.sleep(Duration.millis(settings.pingTimeoutMs))
        yield* dropSilent
        yield* Effect.sleep(Duration.millis(settings.pingIntervalMs - settings.pingTimeoutMs))
      })))

      // The CONNECT answer goes out first, with the pid that says whether the client recovered,
      // once the registry has said where the socket starts; the replay and live integers follow.
      const joinNamespace = (socket: WebSocket, session: Session, payload: unknown, join: Join) => {
        const claim = claimOf(payload, sequence)
        join(resumeAfter(claim, session.since), (startsAfter) => {
          if (socket.readyState !== WebSocket.OPEN) return
          socket.send(connectAnswer(newSid(), answerPid(claim, sequence, startsAfter)))
        })
      }

      const start = (socket: WebSocket, since: number | undefined, join: Join) => {
        const session: Session = { state: initialSession, awaitingPong: false, since }
        sessions.set(socket, session)
        // A client that never joins "/" would hold a connection (and a place under
        // MAX_CONNECTIONS) without receiving anything; socket.io-client joins at once.
        const joinDeadline = setTimeout(() => {
          if (!session.state.joined) closeBy(socket, "socket.io-protocol", noNamespaceJoined)
        }, settings.pingTimeoutMs)
        joinDeadline.unref()
        socket.once("close", () => {
          clearTimeout(joinDeadline)
          sessions.delete(socket)
        })
        socket.send(openPacket(newSid(), settings))
        socket.on("message", (data, isBinary) => {
          const { reactions, state } = receive(session.state, isBinary ? undefined : String(data))
          session.state = state
          for (const reaction of reactions) {
            switch (reaction._tag) {
              case "Send":
                if (socket.readyState === WebSocket.OPEN) socket.send(reaction.packet)
                break
              case "Join":
                joinNamespace(socket, session, reaction.payload, join)
                break
              case "Pong":
                session.awaitingPong = false
                break
              case "Close":
                // A client that sends close or leaves "/" ends its own session.
                if (reaction.code === closeCodes.normal) socket.close(reaction.code, reaction.reason)
                else closeBy(socket, "socket.io-protocol", reaction)
                break
            }
          }
        })
      }
      return { start }
    })
  )
}
