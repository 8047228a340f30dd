/**
 * The transport of an event stream: a response that stays open, written to by the fan-out like a
 * WebSocket. Open while the response is, its unsent bytes the response's; it closes by ending the
 * response (its client reconnects after the `retry` hint) and is cut off by destroying it.
 */
import type { ServerResponse } from "node:http"
import type { Transport } from "../connection/Connection.js"
import { keepAliveComment } from "../wire/EventStream.js"

export const eventStreamTransport: Transport<ServerResponse> = {
  write: (response, bytes) => void response.write(bytes),
  bufferedAmount: (response) => response.writableLength,
  isOpen: (response) => !response.writableEnded && !response.destroyed,
  close: (response) => void response.end(),
  terminate: (response) => void response.destroy(),
  keepAlive: (response) => void response.write(keepAliveComment)
}
