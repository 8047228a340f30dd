/**
 * The service's layers wired together, short of configuration: `main.ts` gives it the
 * environment's, tests give it their own. The same diagram opens docs/architecture.md.
 *
 *   ForgeConfig ─▶ IntegerForge ─▶ Metrics ─▶ ConnectionLog ─┐
 *   NodeServer, Lifecycle, MaxConnections ───────────────────┴─▶ Connections ─┬─▶ EventStreams, HttpRoutes ─────────┬─▶ Listener
 *                                                                             ├─▶ SocketIoSessions ─▶ WebSocketEdge ─┘
 *                                                                             └─▶ Rebalancer
 *   (ServerConfig is read by most of them; main.ts adds the logger and StartupLog)
 *
 * Layers release in the reverse order, the listener first: its release is the whole shutdown
 * (`http/Shutdown.ts`), after which the fan-out and then the forge stop.
 */
import { Layer } from "effect"
import { MaxConnections } from "./connection/ConnectionLimit.js"
import { Connections } from "./connection/Connections.js"
import * as Rebalancer from "./connection/Rebalancer.js"
import * as EventStreams from "./edge/EventStreams.js"
import * as WebSocketEdge from "./edge/WebSocketEdge.js"
import * as InProcessForge from "./forge/InProcessForge.js"
import type { IntegerForge } from "./forge/IntegerForge.js"
import * as HttpRoutes from "./http/HttpRoutes.js"
import * as Listener from "./http/Listener.js"
import { NodeServer } from "./http/NodeServer.js"
import { ConnectionLog } from "./ops/ConnectionLog.js"
import { Lifecycle } from "./ops/Lifecycle.js"
import { Metrics } from "./ops/Metrics.js"
import { SocketIoSessions } from "./socketio/SocketIoSessions.js"

/** The connections and their fan-out, with the log and the metrics. Needs an `IntegerForge`. */
const ConnectionsLive = Connections.layer.pipe(
  Layer.provideMerge(Layer.mergeAll(NodeServer.layer, Lifecycle.layer, MaxConnections.layer)),
  Layer.provideMerge(ConnectionLog.layer),
  Layer.provideMerge(Metrics.layer)
)

/** The in-process forge and the connections it feeds. Needs `ForgeConfig` and `ServerConfig`. */
export const ForgeLive = ConnectionsLive.pipe(Layer.provideMerge(InProcessForge.layer))

/** The whole service on a given forge, listening. Needs `ForgeConfig` and `ServerConfig`. */
export const serverOn = <E, R>(forge: Layer.Layer<IntegerForge, E, R>) =>
  Listener.layer.pipe(
    Layer.provide([
      HttpRoutes.layer.pipe(Layer.provide(EventStreams.layer)),
      WebSocketEdge.layer.pipe(Layer.provide(SocketIoSessions.layer))
    ]),
    Layer.merge(Rebalancer.layer),
    Layer.provideMerge(ConnectionsLive.pipe(Layer.provideMerge(forge)))
  )

/** The whole service on the in-process forge. */
export const ServerLive = serverOn(InProcessForge.layer)
