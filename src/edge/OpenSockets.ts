/**
 * Every WebSocket the edge has accepted and that has not closed yet, whatever it speaks and
 * whether or not it receives integers yet. The edge keeps it; the heartbeat, the capacity limit
 * and shutdown read it.
 */
import { Context, Layer } from "effect"
import type { WebSocket } from "ws"

export class OpenSockets extends Context.Tag("IntegerForge/OpenSockets")<OpenSockets, Set<WebSocket>>() {
  static readonly layer = Layer.sync(OpenSockets, () => new Set<WebSocket>())
}
