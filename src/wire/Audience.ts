/**
 * Who a connection is, as far as the fan-out cares: the bytes one integer becomes on its wire.
 * Each protocol defines its audience beside its encoding (plain WebSocket in `Frames.ts`, event
 * streams in `EventStream.ts`, Socket.IO in `socketio/`); the fan-out encodes once per audience
 * and per integer, and writes the same bytes to every member.
 */
export interface Audience {
  /**
   * One integer as written to the connection: a whole WebSocket frame, or a whole event. Whole, so
   * that encodings written back to back (a replay) stay apart and can go out in one write.
   */
  readonly encode: (n: number) => Buffer
}
