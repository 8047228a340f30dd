/**
 * The real service, in this process, on an ephemeral port, for end-to-end tests. Scoped: closing
 * the test's scope stops it, after the clients opened later in that scope.
 */
import { type Context, Effect, Layer, Logger, LogLevel } from "effect"
import { ServerLive } from "../../src/App.js"
import { ForgeConfig, ServerConfig } from "../../src/Config.js"
import { OpenSockets } from "../../src/edge/OpenSockets.js"
import { SocketRegistry } from "../../src/fanout/SocketRegistry.js"
import { IntegerForge } from "../../src/forge/IntegerForge.js"
import { ListeningAddress } from "../../src/http/Listener.js"
import { httpUrl, wsUrl } from "./LocalUrls.js"

export type TestServerOptions =
  & { readonly intervalMs?: number; readonly replayCapacity?: number }
  & Partial<Context.Tag.Service<ServerConfig>>

/** Starts the whole service on 127.0.0.1 and a free port, for the life of the caller's scope. */
export const startServer = ({ intervalMs = 20, replayCapacity = 1000, ...server }: TestServerOptions = {}) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(ServerLive.pipe(Layer.provide([
      ForgeConfig.make(intervalMs, 1024, replayCapacity),
      ServerConfig.make(server)
    ]))).pipe(
      // One line per connection would bury the test report; warnings and errors still show.
      Logger.withMinimumLogLevel(LogLevel.Warning)
    )
    const address = yield* Effect.provide(ListeningAddress, context)
    const forge = yield* Effect.provide(IntegerForge, context)
    const registry = yield* Effect.provide(SocketRegistry, context)
    const openSockets = yield* Effect.provide(OpenSockets, context)
    return {
      port: address.port,
      url: (path: string) => httpUrl(address.port, path),
      wsUrl: (path: string) => wsUrl(address.port, path),
      forge,
      registry,
      openSockets
    }
  })
