/**
 * A Socket.IO client on the WebSocket transport, as a connection: the connection itself, plus its
 * session's state (where it is in the protocol, whether it owes a pong, the URL's `?since=`).
 * The session lives on the connection, so nothing is kept beside it.
 */
import { Connection, type Transport } from "../connection/Connection.js"
import type { ResumePoint } from "../wire/ResumePoint.js"
import { initialSession, type SessionState } from "./SocketIoProtocol.js"

export class SocketIoSession<S = unknown> extends Connection<S> {
  state: SessionState = initialSession
  /** Sent an Engine.IO ping, and not answered yet. */
  awaitingPong = false

  constructor(
    path: string,
    remote: string,
    socket: S,
    transport: Transport<S>,
    /** The URL's `?since=`, for a client's first connection. */
    readonly since: ResumePoint | undefined
  ) {
    super("socket.io", path, remote, socket, transport)
  }
}
