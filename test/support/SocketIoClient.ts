/**
 * A real socket.io-client on the WebSocket transport only, as the platform asks of Socket.IO
 * users; closed with the scope.
 */
import { Effect } from "effect"
import { io, type Socket } from "socket.io-client"

export interface SocketIoClient {
  readonly socket: Socket
  /** Every `integer` event's number, in order. */
  readonly integers: Array<number>
  readonly connects: () => number
}

export const socketIoClient = (url: string, options: Parameters<typeof io>[1] = {}) =>
  Effect.gen(function*() {
    const socket = yield* Effect.acquireRelease(
      // A reconnect after 100 ms rather than socket.io's default second keeps the restart tests short.
      Effect.sync(() => io(url, { transports: ["websocket"], forceNew: true, reconnectionDelay: 100, ...options })),
      (socket) => Effect.sync(() => socket.close())
    )
    const integers: Array<number> = []
    let connects = 0
    socket.on("integer", (n: number) => integers.push(n))
    socket.on("connect", () => connects++)
    return { socket, integers, connects: () => connects } satisfies SocketIoClient
  })
