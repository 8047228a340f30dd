/**
 * Each accepted socket's Effect scope, kept beside the socket and closed by its `close` event, so
 * a socket is released exactly once whether the client leaves, the network fails or the server
 * shuts down. No fiber waits on a connection: the close event does the work.
 *
 * The scopes are not children of the edge's scope: those would close before the drain, and no
 * client would see 1012; nor of a common parent, which would hold a finalizer per connection
 * (half a KiB each, measured). The drain closes what is left itself.
 */
import { Effect, ExecutionStrategy, Exit, Runtime, Scope } from "effect"
import type { WebSocket } from "ws"

export interface ConnectionScopes {
  /** A new scope for an accepted socket, closed when the socket closes. */
  readonly open: (socket: WebSocket) => Scope.Scope
  /** Closes the scope of a socket now, if it still has one. */
  readonly release: (socket: WebSocket) => Effect.Effect<void>
}

/** `closed` runs first when a socket closes, before its scope is closed. */
export const makeConnectionScopes = (closed: (socket: WebSocket) => void): Effect.Effect<ConnectionScopes> =>
  Effect.map(Effect.runtime<never>(), (runtime) => {
    const runSync = Runtime.runSync(runtime)
    const runFork = Runtime.runFork(runtime)
    const scopes = new WeakMap<WebSocket, Scope.CloseableScope>()
    const release = (socket: WebSocket) =>
      Effect.suspend(() => {
        const scope = scopes.get(socket)
        scopes.delete(socket)
        return scope === undefined ? Effect.void : Scope.close(scope, Exit.void)
      })
    // One listener shared by every socket (ws calls it with the socket as `this`): no closure
    // per connection.
    function onClose(this: WebSocket) {
      closed(this)
      runFork(release(this))
    }
    const open = (socket: WebSocket) => {
      const scope = runSync(Scope.make(ExecutionStrategy.sequential))
      scopes.set(socket, scope)
      socket.on("close", onClose)
      return scope
    }
    return { open, release }
  })
