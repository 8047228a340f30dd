/**
 * Why the server ended a socket, remembered until its close event so that the connection log
 * and the metrics can say who closed it and why. A socket with no mark was closed by its client
 * (or by the network).
 */
import type { Close } from "../wire/CloseCodes.js"

/** The part of a socket that can be closed; ws's `WebSocket` is one. */
interface Closable {
  close(code: number, reason: string): void
  terminate(): void
}

export type ServerCloseReason =
  | "shutdown"
  | "slow-consumer"
  | "heartbeat"
  | "socket.io-ping-timeout"
  | "socket.io-protocol"
  /** ws closed it for a frame that broke the protocol (1002, 1007, 1009). */
  | "protocol-error"

const marks = new WeakMap<Closable, ServerCloseReason>()

/** Closes a socket with a close frame, remembering why. The first reason given wins. */
export const closeBy = (socket: Closable, reason: ServerCloseReason, close: Close) => {
  if (!marks.has(socket)) marks.set(socket, reason)
  socket.close(close.code, close.reason)
}

/** Cuts a socket off without a close frame, remembering why. */
export const terminateBy = (socket: Closable, reason: ServerCloseReason) => {
  if (!marks.has(socket)) marks.set(socket, reason)
  socket.terminate()
}

/** Remembers that the server ends this socket, when something other than us (ws) closes it. */
export const markServerClose = (socket: Closable, reason: ServerCloseReason) => {
  if (!marks.has(socket)) marks.set(socket, reason)
}

/** Why the server closed this socket, or undefined when it did not. */
export const serverCloseReason = (socket: Closable): ServerCloseReason | undefined => marks.get(socket)
