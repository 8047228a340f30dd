/**
 * A real socket.io-client on the WebSocket transport only, as the platform asks of Socket.IO
 * users; closed with the scope.
 */
import { Effect } from "effect"
import { io, type Socket } from "socket.io-client"

/** One connection to "/", as the client saw it when its `connect` event fired. */
export interface SocketIoConnection {
  /** `socket.recovered`: the server answered with the pid the client brought. */
  readonly recovered: boolean
  /** The pid the client holds from then on (socket.io-client's `_pid`, which it sends back). */
  readonly pid: string | undefined
}

export interface SocketIoClient {
  readonly socket: Socket
  /** Every `integer` event's number, in order. */
  readonly integers: Array<number>
  readonly connects: () => number
  /** Every connection, in order. */
  readonly connections: Array<SocketIoConnection>
}

export const socketIoClient = (url: string, options: Parameters<typeof io>[1] = {}) =>
  Effect.gen(function*() {
    const socket = yield* Effect.acquireRelease(
      // A reconnect after 100 ms rather than socket.io's default second keeps the restart tests short.
      Effect.sync(() => io(url, { transports: ["websocket"], forceNew: true, reconnectionDelay: 100, ...options })),
      (socket) => Effect.sync(() => socket.close())
    )
    const integers: Array<number> = []
    const connections: Array<SocketIoConnection> = []
    socket.on("integer", (n: number) => integers.push(n))
    socket.on("connect", () =>
      connections.push({
        recovered: socket.recovered,
        pid: (socket as unknown as { readonly _pid?: string })._pid
      }))
    return { socket, integers, connects: () => connections.length, connections } satisfies SocketIoClient
  })
