/**
 * One accepted connection, whatever it speaks: a WebSocket (plain or Socket.IO) or an event
 * stream. It holds everything about itself — what it is, where it came from, its place in the
 * fan-out, whether it answered the last ping, why the server ended it — so that no table
 * elsewhere is keyed by a socket. Each kind is adapted by a `Transport`, an object shared by
 * every connection of that kind, so a connection costs this one object and nothing per closure.
 */
import type { Protocol } from "../ops/Metrics.js"
import type { ServerCloseReason } from "../ops/ServerCloses.js"
import type { Audience } from "../wire/Audience.js"
import { type Close, closeCodes, slowConsumer } from "../wire/CloseCodes.js"

/** What a connection is written with: the few operations every kind of socket offers. */
// Methods rather than function properties: a `Connection<WebSocket>` is then a `Connection`.
export interface Transport<S> {
  /** Writes bytes as they go on the wire: whole WebSocket frames, or whole events. */
  write(socket: S, bytes: Buffer): void
  /** Unsent bytes held for the socket. */
  bufferedAmount(socket: S): number
  isOpen(socket: S): boolean
  /** Ends the connection cleanly: a close frame, or the end of a stream. */
  close(socket: S, close: Close): void
  /** Cuts the connection off at once. */
  terminate(socket: S): void
  /** Asks the peer to answer (a WebSocket ping), where the kind can. */
  ping?(socket: S): void
  /** Sends bytes the client ignores, for idle proxies to see traffic (an event-stream comment). */
  keepAlive?(socket: S): void
}

/** An audience with members, and its bytes for the integer being delivered. The fan-out's. */
export interface Slot {
  readonly audience: Audience
  members: number
  bytes: Buffer
}

// A shed connection is asked to close (1013), but a peer that does not read will never see the
// close frame behind its backlog: after this grace it is cut off.
const shedGraceMs = 1000

const cutOff = (connection: Connection) => connection.terminateBy("slow-consumer")

export class Connection<S = unknown> {
  readonly openedAt = Date.now()
  /** Its audience's slot while it is a member of the fan-out. */
  slot: Slot | undefined = undefined
  /**
   * Live integers up to this one are skipped: it resumed after an integer this instance has not
   * delivered yet (a shared sequence, heard a moment after another instance did).
   */
  skipUpTo: number | undefined = undefined
  /** Pinged, and not answered yet. */
  unanswered = false
  /** Why the server ended it; the first reason given wins. */
  closeReason: ServerCloseReason | undefined = undefined
  /** The code of the last close the server asked for, for kinds whose close event has none. */
  sentCode: number | undefined = undefined
  /** The one timer a connection may have (a grace or a deadline), cleared when it is released. */
  timer: NodeJS.Timeout | undefined = undefined

  constructor(
    readonly kind: Protocol,
    /** The request path, without its query (which may carry tokens). */
    readonly path: string,
    readonly remote: string,
    readonly socket: S,
    readonly transport: Transport<S>
  ) {}

  get isOpen(): boolean {
    return this.transport.isOpen(this.socket)
  }
  get bufferedAmount(): number {
    return this.transport.bufferedAmount(this.socket)
  }
  write(bytes: Buffer): void {
    this.transport.write(this.socket, bytes)
  }
  /** Ends the connection cleanly, for no reason of the server's (its client asked to). */
  close(close: Close): void {
    this.sentCode = close.code
    this.transport.close(this.socket, close)
  }
  /** Remembers that the server ends this connection, when something other than us (ws) closes it. */
  markServerClose(reason: ServerCloseReason): void {
    if (this.closeReason === undefined) this.closeReason = reason
  }
  closeBy(reason: ServerCloseReason, close: Close): void {
    this.markServerClose(reason)
    this.close(close)
  }
  /** Cuts it off without a close frame: a peer that stopped answering would not answer one. */
  terminateBy(reason: ServerCloseReason): void {
    this.markServerClose(reason)
    this.sentCode = closeCodes.abnormal
    this.transport.terminate(this.socket)
  }
  /** Closes a connection whose unsent data passed the limit, and cuts it off after a grace. */
  shed(): void {
    this.closeBy("slow-consumer", slowConsumer)
    this.after(shedGraceMs, cutOff)
  }
  /** Runs `f` on this connection in `ms`, instead of what its timer was to run. */
  after<C extends Connection>(this: C, ms: number, f: (connection: C) => void): void {
    clearTimeout(this.timer)
    this.timer = setTimeout(f, ms, this).unref()
  }
}
