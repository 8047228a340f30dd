/**
 * A Socket.IO client on the WebSocket transport, as a connection with its session's state: where
 * it is in the protocol, the URL's `?since=`, and its place among the live sessions until released.
 */
import { Connection, type Transport } from "../connection/Connection.js"
import type { ResumePoint } from "../wire/ResumePoint.js"
import { initialSession, type Reaction, receive } from "./SocketIoProtocol.js"

/** Who the client of a session is, as the edge accepted it. */
export type Client = Pick<SocketIoSession, "path" | "remote" | "since">

export class SocketIoSession<S = unknown> extends Connection<S> {
  /** The URL's `?since=`, for a client's first connection. */
  readonly since: ResumePoint | undefined
  #state = initialSession
  readonly #live: Set<SocketIoSession>

  constructor(socket: S, transport: Transport<S>, client: Client, live: Set<SocketIoSession>) {
    super("socket.io", client.path, client.remote, socket, transport)
    this.since = client.since
    this.#live = live.add(this)
  }

  /** Whether it joined "/". */
  get joined(): boolean {
    return this.#state.joined
  }
  /** What a client's frame means for the session; `text` is undefined for a binary frame. */
  receive(text: string | undefined): ReadonlyArray<Reaction> {
    const { reactions, state } = receive(this.#state, text)
    this.#state = state
    return reactions
  }
  override released(): void {
    super.released()
    this.#live.delete(this)
  }
}
