/**
 * Keeps the socket list honest. A peer that vanished without a FIN (a phone that lost signal, a
 * killed container behind NAT) leaves a socket that looks open forever; pinging every socket
 * and dropping those that did not answer the previous ping finds them.
 *
 * One fiber sweeps all sockets per interval: no timer per socket. The same module answers the
 * clients' own pings, refusing to queue pongs for a peer that does not read what it is sent.
 */
import { Context, Duration, Effect, Layer, Schedule } from "effect"
import { WebSocket } from "ws"
import { ServerConfig } from "../Config.js"
import { shed } from "../fanout/SocketRegistry.js"
import { terminateBy } from "../ops/ServerCloses.js"
import { OpenSockets } from "./OpenSockets.js"

export class Heartbeat extends Context.Tag("IntegerForge/Heartbeat")<Heartbeat, {
  /** Starts watching an accepted socket: its pongs keep it alive, its pings are answered. */
  readonly watch: (socket: WebSocket) => void
}>() {
  static readonly layer = Layer.scoped(
    Heartbeat,
    Effect.gen(function*() {
      const sockets = yield* OpenSockets
      const { heartbeatIntervalMs, maxBufferedBytes } = yield* ServerConfig
      const unanswered = new WeakSet<WebSocket>()

      const sweep = Effect.sync(() => {
        for (const socket of sockets) {
          if (socket.readyState !== WebSocket.OPEN) continue
          // No close frame: a peer that ignores pings would not answer it either.
          if (unanswered.has(socket)) terminateBy(socket, "heartbeat")
          else {
            unanswered.add(socket)
            socket.ping()
          }
        }
      })
      yield* Effect.forkScoped(Effect.schedule(sweep, Schedule.spaced(Duration.millis(heartbeatIntervalMs))))

      // Listeners shared by every socket (ws calls them with the socket as `this`): no closure is
      // kept per connection, which is most of what a connection costs besides ws itself.
      function onPong(this: WebSocket) {
        unanswered.delete(this)
      }
      // ws would answer every ping by itself; a client that floods pings without reading the
      // pongs would then grow our buffers without bound.
      function onPing(this: WebSocket, data: Buffer) {
        if (this.readyState !== WebSocket.OPEN) return
        if (this.bufferedAmount > maxBufferedBytes) shed(this)
        else this.pong(data)
      }
      const watch = (socket: WebSocket) => {
        socket.on("pong", onPong)
        socket.on("ping", onPing)
      }
      return { watch }
    })
  )
}
