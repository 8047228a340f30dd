/**
 * A connection is owned by the `Connections` service's scope: whatever is connected, and whenever
 * the server is released, nothing of any connection outlives it — no registered connection, no
 * member of the fan-out, no connection timer, no fiber, no open socket.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, FastCheck as fc, Fiber, Scope, Supervisor } from "effect"
import { openEventStream } from "../support/EventStreamClient.js"
import { ensure, eventually } from "../support/Eventually.js"
import { recordingConnection } from "../support/RecordingConnection.js"
import { socketIoClient } from "../support/SocketIoClient.js"
import { startServer } from "../support/TestServer.js"
import { connect } from "../support/WebSocketClient.js"

type Kind = "plain" | "socket.io" | "sse"

// The TCP handles of this process, the servers' and the clients'.
const tcpHandles = () => process.getActiveResourcesInfo().filter((type) => type.startsWith("TCP")).length

describe("releasing the server", () => {
  it.scopedLive.prop(
    "leaves nothing of any connection, whatever is open and whenever it happens",
    {
      kinds: fc.array(fc.constantFrom<Kind>("plain", "socket.io", "sse"), { maxLength: 8 }),
      releaseAfterMs: fc.integer({ min: 0, max: 120 })
    },
    ({ kinds, releaseAfterMs }) =>
      Effect.gen(function*() {
        const handlesBefore = tcpHandles()
        const fibers = yield* Supervisor.track
        const serverScope = yield* Scope.make()
        const clientScope = yield* Scope.make()
        const server = yield* startServer({ intervalMs: 10, shutdownTimeoutMs: 400 }).pipe(
          Scope.extend(serverScope),
          Effect.supervised(fibers)
        )
        const open = (kind: Kind) => {
          const client: Effect.Effect<unknown, unknown, Scope.Scope> = kind === "plain"
            ? connect(server.wsUrl("/_ws/"))
            : kind === "socket.io"
            ? socketIoClient(server.url("/"), { reconnection: false })
            : openEventStream(server.url("/_ws/"))
          // Refused, reset or cut short by the release: all fine, as long as nothing is left.
          return client.pipe(
            Effect.timeout(Duration.seconds(2)),
            Scope.extend(clientScope),
            Effect.exit
          )
        }
        const release = yield* Effect.fork(
          Effect.sleep(Duration.millis(releaseAfterMs)).pipe(Effect.zipRight(Scope.close(serverScope, Exit.void)))
        )
        yield* Effect.forEach(kinds, open, { discard: true })
        yield* Fiber.join(release)

        assert.strictEqual(server.connections.open.size, 0, "no connection registered")
        assert.strictEqual(server.connections.members(), 0, "no member of the fan-out")
        const status = yield* server.forge.status
        assert.isFalse(status.running, "the forge stopped")
        yield* eventually(
          Effect.flatMap(fibers.value, (alive) => ensure(() => alive.length === 0, `${alive.length} fibers alive`))
        )
        yield* Scope.close(clientScope, Exit.void)
        yield* eventually(ensure(() => tcpHandles() <= handlesBefore, `TCP handles: ${tcpHandles()}`))
      }),
    { timeout: 120_000, fastCheck: { seed: 21, numRuns: 12 } }
  )

  it.scopedLive("a released connection's timer never runs", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const connection = recordingConnection(() => {})
      let ran = false
      server.connections.accept(connection)
      connection.after(20, () => (ran = true))
      server.connections.release(connection, 1000)
      yield* Effect.sleep(Duration.millis(60))
      assert.isFalse(ran)
    }))
})
