import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect } from "effect"
import { io } from "socket.io-client"
import { WebSocket } from "ws"
import { ensure, eventually } from "../support/Eventually.js"
import { restartableServer } from "../support/RestartableServer.js"
import { consecutive } from "../support/Sequences.js"
import { socketIoClient } from "../support/SocketIoClient.js"
import { startServer } from "../support/TestServer.js"
import { connect, refusedUpgrade } from "../support/WebSocketClient.js"

describe("Socket.IO clients on /socket.io/", () => {
  it.scopedLive("a socket.io-client with transports: [\"websocket\"] receives consecutive integers", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20 })
      const client = yield* socketIoClient(server.url(""))
      yield* eventually(ensure(() => client.integers.length >= 5, "five integers"))
      assert.isTrue(consecutive(client.integers), client.integers.join(","))
      assert.isTrue(client.socket.connected)
    }))

  it.scopedLive("Socket.IO and plain clients see the same integers from the same forge", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20 })
      const plain = yield* connect(server.wsUrl("/_ws/"))
      const one = yield* socketIoClient(server.url(""))
      const two = yield* socketIoClient(server.url(""))
      yield* eventually(ensure(() => one.integers.length >= 8 && two.integers.length >= 8, "integers"))
      const plainNumbers = plain.received.map(Number)
      for (const client of [one, two]) {
        const start = plainNumbers.indexOf(client.integers[0]!)
        assert.isAtLeast(start, 0, "the Socket.IO client's first integer came from the same sequence")
        const common = Math.min(client.integers.length, plainNumbers.length - start)
        assert.deepStrictEqual(client.integers.slice(0, common), plainNumbers.slice(start, start + common))
      }
      assert.strictEqual((yield* server.forge.status).subscribers, 1, "one fan-out for both audiences")
    }))

  it.scopedLive("a client left on the default transports fails fast with the documented error", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const started = Date.now()
      // The XHR behind the error is reset once the client closes, so its body is read at once.
      const error = yield* Effect.async<{ readonly description: unknown; readonly body: string }>((resume) => {
        const socket = io(server.url(""), { forceNew: true, reconnection: false })
        socket.on("connect_error", (e) => {
          const detail = e as unknown as { description?: unknown; context?: { responseText?: string } }
          resume(Effect.succeed({ description: detail.description, body: detail.context?.responseText ?? "" }))
          socket.close()
        })
      })
      assert.isBelow(Date.now() - started, 2000, "fails fast")
      assert.strictEqual(error.description, 400)
      const body = JSON.parse(error.body) as { code: number; message: string }
      assert.strictEqual(body.code, 0)
      assert.match(body.message, /long-polling is not available on this platform/)
    }))

  it.scopedLive("a wrong namespace is refused with a connect error", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const client = yield* socketIoClient(server.url("/admin"))
      const message = yield* Effect.async<string>((resume) => {
        client.socket.on("connect_error", (e) => resume(Effect.succeed(e.message)))
      })
      assert.strictEqual(message, "Invalid namespace")
      assert.strictEqual(server.registry.size(), 0)
    }))

  it.scopedLive("old clients (EIO=3) get a clear error", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const refused = yield* refusedUpgrade(server.wsUrl("/socket.io/?EIO=3&transport=websocket"))
      assert.strictEqual(refused.status, 400)
      assert.strictEqual(refused.headers["content-type"], "application/json")
      const response = yield* Effect.promise(() => fetch(server.url("/socket.io/?EIO=3&transport=polling")))
      const body = (yield* Effect.promise(() => response.json())) as { code: number; message: string }
      assert.deepStrictEqual([response.status, body.code], [400, 5])
      assert.match(body.message, /Engine\.IO 4/)
    }))

  it.scopedLive("a Socket.IO client that stops answering pings is dropped and released", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ socketIoPingIntervalMs: 200, socketIoPingTimeoutMs: 100 })
      // A raw client that speaks just enough Engine.IO to join "/", and then never pongs.
      const frames: Array<string> = []
      const closed = yield* Deferred.make<number>()
      yield* Effect.acquireRelease(
        Effect.async<WebSocket>((resume) => {
          const ws = new WebSocket(server.wsUrl("/socket.io/?EIO=4&transport=websocket"))
          ws.on("message", (data) => frames.push(String(data)))
          ws.on("open", () => {
            ws.send("40")
            resume(Effect.succeed(ws))
          })
          ws.on("close", (code) => Deferred.unsafeDone(closed, Effect.succeed(code)))
          ws.on("error", () => {})
        }),
        (ws) => Effect.sync(() => ws.terminate())
      )
      yield* eventually(ensure(() => server.registry.size() === 1, "joined"))
      const code = yield* Deferred.await(closed).pipe(Effect.timeout(Duration.seconds(5)))
      assert.strictEqual(code, 1006, "cut off without a close frame")
      assert.isTrue(frames.includes("2"), "it was pinged")
      assert.match(frames[0]!, /^0\{"sid":/)
      yield* eventually(ensure(() => server.registry.size() === 0 && server.openSockets.size === 0, "released"))
    }))

  it.scopedLive("a connection that never joins \"/\" is closed with 1008 after the ping timeout", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ socketIoPingIntervalMs: 2000, socketIoPingTimeoutMs: 200 })
      const closed = yield* Deferred.make<number>()
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          const ws = new WebSocket(server.wsUrl("/socket.io/?EIO=4&transport=websocket"))
          ws.on("close", (code) => Deferred.unsafeDone(closed, Effect.succeed(code)))
          ws.on("error", () => {})
          return ws
        }),
        (ws) => Effect.sync(() => ws.terminate())
      )
      const code = yield* Deferred.await(closed).pipe(Effect.timeout(Duration.seconds(5)))
      assert.strictEqual(code, 1008)
      yield* eventually(ensure(() => server.openSockets.size === 0, "released"))
    }))

  it.scopedLive("after the server restarts on the same port, the client reconnects by itself", () =>
    Effect.gen(function*() {
      const server = yield* restartableServer({ intervalMs: 20 })
      const client = yield* socketIoClient(server.url(""))
      yield* eventually(ensure(() => client.integers.length >= 3, "integers from the first server"))
      yield* server.stop
      const seen = client.integers.length
      yield* server.restart
      yield* eventually(ensure(() => client.connects() >= 2, "reconnected"), Duration.seconds(10))
      yield* eventually(ensure(() => client.integers.length >= seen + 3, "integers from the second server"))
    }))
})
