/**
 * The in-process service in a scope of its own, so that a test can stop it while its clients stay
 * connected, and start it again on the same port, as a restart or a deploy does to real clients.
 */
import { Effect, ExecutionStrategy, Exit, Scope } from "effect"
import { startServer, type TestServerOptions } from "./TestServer.js"

export const restartableServer = (options: TestServerOptions = {}) =>
  Effect.gen(function*() {
    // A child of the test's scope: a test that fails before `stop` still shuts the server down.
    const own = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    const server = yield* startServer(options).pipe(Scope.extend(own))
    return {
      ...server,
      /** Shuts this instance down, as SIGTERM would, leaving the test's clients be. */
      stop: Scope.close(own, Exit.void),
      /** A new instance on the same port, for the rest of the test's scope. */
      restart: startServer({ ...options, port: server.port })
    }
  })
