/**
 * Every WebSocket close code the service and its clients deal with, named once, and the closes
 * the server sends with their reasons. What each asks of a client is in docs/operations.md.
 *
 * ws sends some of these by itself for frames that break the protocol: 1002 (unmasked frame,
 * reserved opcode, fragmented control frame), 1007 (invalid UTF-8 in a text frame) and 1009 (a
 * message larger than MAX_PAYLOAD_BYTES). A socket that misses a heartbeat is terminated without
 * a close frame, which its client sees as 1006: a peer that does not answer pings would not
 * answer a close frame either.
 */

/** RFC 6455 §7.4.1 and the IANA registry, by meaning. */
export const closeCodes = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  /** Never sent: what a side reports when the connection ended without a close frame. */
  abnormal: 1006,
  invalidPayload: 1007,
  policyViolation: 1008,
  messageTooBig: 1009,
  serviceRestart: 1012,
  tryAgainLater: 1013
} as const

/** The range RFC 6455 leaves to applications; this service gives none of them a meaning to retry. */
export const applicationCodes = { from: 4000, to: 4999 } as const

export interface Close {
  readonly code: number
  readonly reason: string
}

/** The server is shutting down (a deploy): reconnect soon, with jitter. */
export const serviceRestart: Close = { code: closeCodes.serviceRestart, reason: "server restarting" }

/** This socket fell too far behind (it stopped reading): reconnect. */
export const slowConsumer: Close = { code: closeCodes.tryAgainLater, reason: "too much unsent data: slow consumer" }

/** A Socket.IO client that never joined "/" within the ping timeout. */
export const noNamespaceJoined: Close = { code: closeCodes.policyViolation, reason: "no namespace joined in time" }

/** A Socket.IO client sent a packet that does not parse. */
export const malformedPacket: Close = { code: closeCodes.protocolError, reason: "malformed packet" }

/** A Socket.IO client sent a binary frame, which this service never asks for. */
export const binaryUnsupported: Close = { code: closeCodes.unsupportedData, reason: "binary packets are not supported" }

/** A Socket.IO client sent Engine.IO's close packet. */
export const clientClosed: Close = { code: closeCodes.normal, reason: "client closed" }

/** A Socket.IO client left "/". */
export const clientLeft: Close = { code: closeCodes.normal, reason: "client left" }
