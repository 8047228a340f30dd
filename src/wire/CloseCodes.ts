/**
 * The WebSocket close codes the service and its client use, named once, and the closes the server
 * sends with their reasons; every code, ws's own included, is in docs/operations.md.
 */

/** RFC 6455 §7.4.1 and the IANA registry, by meaning. */
export const closeCodes = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  /** Never sent: what a side reports when the connection ended without a close frame. */
  abnormal: 1006,
  policyViolation: 1008,
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

// The closes of a Socket.IO session.
export const noNamespaceJoined: Close = { code: closeCodes.policyViolation, reason: "no namespace joined in time" }
export const malformedPacket: Close = { code: closeCodes.protocolError, reason: "malformed packet" }
export const binaryUnsupported: Close = { code: closeCodes.unsupportedData, reason: "binary packets are not supported" }
export const clientClosed: Close = { code: closeCodes.normal, reason: "client closed" }
export const clientLeft: Close = { code: closeCodes.normal, reason: "client left" }
