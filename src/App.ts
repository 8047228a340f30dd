/**
 * The service's layers wired together, short of configuration: `main.ts` gives it the
 * environment's, tests give it their own. The same diagram opens docs/architecture.md.
 *
 *   ForgeConfig ─▶ IntegerForge ─▶ Metrics ─▶ SocketRegistry ─┐
 *   NodeServer, Lifecycle, OpenSockets ───────────────────────┤
 *                                                             └─▶ ConnectionLog ─▶ EventStreams ─┬─▶ HttpRoutes ─────────────────────────────────────┐
 *                                                                                                └─▶ Heartbeat, SocketIoSessions ─▶ WebSocketEdge ─┴─▶ Listener
 *   (ServerConfig is read by most of them; main.ts adds the logger and StartupLog)
 *
 * Layers release in the reverse order: the listener starts draining, the edge closes the sockets
 * (which stops the fan-out and then the forge), the Node server closes last.
 */
import { Layer } from "effect"
import { MaxConnections } from "./edge/ConnectionLimit.js"
import * as EventStreams from "./edge/EventStreams.js"
import { Heartbeat } from "./edge/Heartbeat.js"
import { OpenSockets } from "./edge/OpenSockets.js"
import * as WebSocketEdge from "./edge/WebSocketEdge.js"
import { SocketRegistry } from "./fanout/SocketRegistry.js"
import * as InProcessForge from "./forge/InProcessForge.js"
import type { IntegerForge } from "./forge/IntegerForge.js"
import * as HttpRoutes from "./http/HttpRoutes.js"
import { Lifecycle } from "./http/Lifecycle.js"
import * as Listener from "./http/Listener.js"
import { NodeServer } from "./http/NodeServer.js"
import { ConnectionLog } from "./ops/ConnectionLog.js"
import { Metrics } from "./ops/Metrics.js"
import { SocketIoSessions } from "./socketio/SocketIoSessions.js"

/** The socket registry that fans a forge out, and the metrics. Needs an `IntegerForge`. */
const FanOutLive = SocketRegistry.layer.pipe(Layer.provideMerge(Metrics.layer))

/** The in-process forge and its fan-out. Needs `ForgeConfig`. */
export const ForgeLive = FanOutLive.pipe(Layer.provideMerge(InProcessForge.layer))

/** The whole service on a given forge, listening. Needs `ForgeConfig` and `ServerConfig`. */
export const serverOn = <E, R>(forge: Layer.Layer<IntegerForge, E, R>) =>
  Listener.layer.pipe(
    Layer.provide([
      HttpRoutes.layer,
      WebSocketEdge.layer.pipe(Layer.provide([Heartbeat.layer, SocketIoSessions.layer]))
    ]),
    // Event streams are released after the WebSocket edge's drain, before the Node server closes.
    Layer.provideMerge(EventStreams.layer),
    Layer.provideMerge(ConnectionLog.layer),
    Layer.provideMerge(Layer.mergeAll(NodeServer.layer, Lifecycle.layer, OpenSockets.layer, MaxConnections.layer)),
    Layer.provideMerge(FanOutLive.pipe(Layer.provideMerge(forge)))
  )

/** The whole service on the in-process forge. */
export const ServerLive = serverOn(InProcessForge.layer)
