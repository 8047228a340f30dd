/** Why the server ended a connection, as the connection log and the metrics say it. */
export type ServerCloseReason =
  | "shutdown"
  /** Handed over to another instance sharing the forge (`connection/Rebalancer.ts`). */
  | "rebalance"
  | "slow-consumer"
  | "heartbeat"
  | "socket.io-ping-timeout"
  | "socket.io-protocol"
  /** ws closed it for a frame that broke the protocol (1002, 1007, 1009). */
  | "protocol-error"
