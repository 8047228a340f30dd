/**
 * The real service, in this process, on an ephemeral port, for end-to-end tests. Scoped: closing
 * the test's scope stops it, after the clients opened later in that scope.
 */
import { type Context, Effect, Layer, Logger, LogLevel } from "effect"
import type { WebSocket } from "ws"
import { ServerLive } from "../../src/App.js"
import { ForgeConfig, ServerConfig } from "../../src/Config.js"
import type { Connection } from "../../src/connection/Connection.js"
import { Connections } from "../../src/connection/Connections.js"
import type { WebSocketPeer } from "../../src/edge/WebSocketBridge.js"
import { IntegerForge } from "../../src/forge/IntegerForge.js"
import { ListeningAddress } from "../../src/http/Listener.js"
import { httpUrl, wsUrl } from "./LocalUrls.js"

export type TestServerOptions =
  & { readonly intervalMs?: number; readonly replayCapacity?: number }
  & Partial<Context.Tag.Service<ServerConfig>>

/** The server's side of its open WebSockets (plain and Socket.IO), in the order they were accepted. */
const webSockets = (connections: Context.Tag.Service<Connections>): Set<WebSocket> =>
  new Set(
    [...connections.open].filter((c) => c.kind !== "sse").map((c) => (c as Connection<WebSocketPeer>).socket.ws)
  )

/** Starts the whole service on 127.0.0.1 and a free port, for the life of the caller's scope. */
export const startServer = ({ intervalMs = 20, replayCapacity = 1000, ...server }: TestServerOptions = {}) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(ServerLive.pipe(Layer.provide([
      ForgeConfig.layerTest(intervalMs, 1024, replayCapacity),
      ServerConfig.layerTest(server)
    ]))).pipe(
      // One line per connection would bury the test report; warnings and errors still show.
      Logger.withMinimumLogLevel(LogLevel.Warning)
    )
    const address = yield* Effect.provide(ListeningAddress, context)
    const forge = yield* Effect.provide(IntegerForge, context)
    const connections = yield* Effect.provide(Connections, context)
    return {
      port: address.port,
      url: (path: string) => httpUrl(address.port, path),
      wsUrl: (path: string) => wsUrl(address.port, path),
      forge,
      connections,
      /** The fan-out's members. */
      registry: { size: connections.members },
      get openSockets() {
        return webSockets(connections)
      }
    }
  })
