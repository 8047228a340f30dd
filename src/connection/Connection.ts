/**
 * One accepted connection, whatever it speaks: it holds all of its own state, so that no table
 * elsewhere is keyed by a socket; each kind is adapted by one shared `Transport`.
 */
import type { Protocol } from "../ops/Metrics.js"
import type { ServerCloseReason } from "../ops/ServerCloses.js"
import { type Close, closeCodes, slowConsumer } from "../wire/CloseCodes.js"
import { Member } from "./FanOut.js"

/** What a connection is written with: the few operations every kind of socket offers. */
// Methods rather than function properties: a `Connection<WebSocket>` is then a `Connection`.
export interface Transport<S> {
  /** Writes bytes as they go on the wire: whole WebSocket frames, or whole events. */
  write(socket: S, bytes: Buffer): void
  bufferedAmount(socket: S): number
  isOpen(socket: S): boolean
  /** Ends the connection cleanly: a close frame, or the end of a stream. */
  close(socket: S, close: Close): void
  terminate(socket: S): void
  /** A WebSocket ping, for the heartbeat of `Connections`; a kind with its own heartbeat has none. */
  ping?(socket: S): void
  /** Sends bytes the client ignores, for idle proxies to see traffic (an event-stream comment). */
  keepAlive?(socket: S): void
}

// A shed connection is asked to close (1013), but a peer that does not read will never see the
// close frame behind its backlog: after this grace it is cut off.
const shedGraceMs = 1000

const cutOff = (connection: Connection) => connection.terminateBy("slow-consumer")

export class Connection<S = unknown> extends Member {
  readonly openedAt = Date.now()
  #unanswered = false
  #closeReason: ServerCloseReason | undefined = undefined
  #sentCode: number | undefined = undefined
  #timer: NodeJS.Timeout | undefined = undefined

  constructor(
    readonly kind: Protocol,
    /** The request path, without its query (which may carry tokens). */
    readonly path: string,
    readonly remote: string,
    readonly socket: S,
    readonly transport: Transport<S>
  ) {
    super()
  }

  get isOpen(): boolean {
    return this.transport.isOpen(this.socket)
  }
  get bufferedAmount(): number {
    return this.transport.bufferedAmount(this.socket)
  }
  write(bytes: Buffer): void {
    this.transport.write(this.socket, bytes)
  }
  /** Why the server ended it; the first reason given wins. */
  get closeReason(): ServerCloseReason | undefined {
    return this.#closeReason
  }
  /** The code of the last close the server asked for, for kinds whose close event has none. */
  get sentCode(): number | undefined {
    return this.#sentCode
  }
  /** Ends the connection cleanly, for no reason of the server's (its client asked to). */
  close(close: Close): void {
    this.#sentCode = close.code
    this.transport.close(this.socket, close)
  }
  /** The server ends it, though something else (ws) closes it. */
  markServerClose(reason: ServerCloseReason): void {
    this.#closeReason ??= reason
  }
  closeBy(reason: ServerCloseReason, close: Close): void {
    this.markServerClose(reason)
    this.close(close)
  }
  /** Cuts it off without a close frame: a peer that stopped answering would not answer one. */
  terminateBy(reason: ServerCloseReason): void {
    this.markServerClose(reason)
    this.#sentCode = closeCodes.abnormal
    this.transport.terminate(this.socket)
  }
  shed(): void {
    this.closeBy("slow-consumer", slowConsumer)
    this.after(shedGraceMs, cutOff)
  }
  /** Runs `f` on this connection in `ms`, instead of what its timer was to run, unless released. */
  after<C extends Connection>(this: C, ms: number, f: (connection: C) => void): void {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(f, ms, this).unref()
  }
  released(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
  }
  /** A ping went out (of its protocol's heartbeat), which it must answer before `dropIfSilent`. */
  pinged(): void {
    this.#unanswered = true
  }
  answered(): void {
    this.#unanswered = false
  }
  /** Cuts it off if it did not answer the last ping; whether it did so. */
  dropIfSilent(reason: ServerCloseReason): boolean {
    if (this.#unanswered) this.terminateBy(reason)
    return this.#unanswered
  }
}
