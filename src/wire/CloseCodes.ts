/**
 * The WebSocket close codes this server sends, and what each asks of a client. Documented for
 * clients in docs/operations.md.
 */

/** RFC 6455 "service restart": the server is shutting down (a deploy); reconnect soon, with jitter. */
export const serviceRestart = { code: 1012, reason: "server restarting" } as const

/** RFC 6455 "try again later": this socket fell too far behind (it stopped reading); reconnect. */
export const slowConsumer = { code: 1013, reason: "too much unsent data: slow consumer" } as const

// The following are sent by the ws library itself, for frames that break the protocol:
// 1002 protocol error (unmasked frame, reserved opcode, fragmented control frame; also sent by
// the Socket.IO adapter for a malformed packet), 1003 (a binary frame from a Socket.IO client),
// 1007 invalid UTF-8 in a text frame, 1009 message larger than MAX_PAYLOAD_BYTES.
// A socket that misses a heartbeat is terminated without a close frame (the client sees 1006):
// a peer that does not answer pings would not answer a close frame either.
