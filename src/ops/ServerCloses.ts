/**
 * Why the server ended a connection, as the connection log and the metrics say it. A connection
 * the server did not end was closed by its client (or by the network). Each connection keeps its
 * own reason (`connection/Connection.ts`).
 */
export type ServerCloseReason =
  | "shutdown"
  | "slow-consumer"
  | "heartbeat"
  | "socket.io-ping-timeout"
  | "socket.io-protocol"
  /** ws closed it for a frame that broke the protocol (1002, 1007, 1009). */
  | "protocol-error"
