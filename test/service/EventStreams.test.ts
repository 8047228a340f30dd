import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect } from "effect"
import { openEventStream } from "../support/EventStreamClient.js"
import { ensure, eventually } from "../support/Eventually.js"
import { scrapeMetrics } from "../support/Metrics.js"
import { silentWebSocket } from "../support/RawSocket.js"
import { restartableServer } from "../support/RestartableServer.js"
import { consecutive } from "../support/Sequences.js"
import { startServer } from "../support/TestServer.js"
import { connect } from "../support/WebSocketClient.js"

describe("Server-Sent Events on the WebSocket paths", () => {
  it.scopedLive("a GET that accepts text/event-stream gets a stream: retry hint, then one event per integer", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20 })
      const stream = yield* openEventStream(server.url("/_ws/"))
      assert.strictEqual(stream.status, 200)
      assert.match(String(stream.headers["content-type"]), /^text\/event-stream/)
      assert.strictEqual(stream.headers["cache-control"], "no-cache, no-transform")
      assert.strictEqual(stream.headers["x-vip-reached-origin"], "true")
      assert.strictEqual(stream.headers["x-accel-buffering"], "no")
      yield* eventually(ensure(() => stream.ids().length >= 10, "events"))
      assert.isTrue(stream.text().startsWith("retry: 1000\n\n"))
      assert.isTrue(consecutive(stream.ids()), stream.ids().join(","))
      const sequence = server.forge.sequence
      for (const n of stream.ids()) assert.include(stream.text(), `id: ${sequence}.${n}\ndata: ${n}\n\n`)
      const read = yield* scrapeMetrics(server.url("/metrics"))
      assert.strictEqual(read("forge_connections_open", { protocol: "sse" }), 1)
    }))

  it.scopedLive("resumes from Last-Event-ID (what EventSource sends) or ?since=, with no gap and no repeat", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20 })
      const witness = yield* connect(server.wsUrl("/_ws/"))
      yield* eventually(ensure(() => witness.received.length >= 10, "integers"))
      const since = Number(witness.received[3])
      for (
        const resume of [{ headers: { "last-event-id": String(since) }, path: "/_ws/" }, {
          headers: {},
          path: `/_ws/?since=${since}`
        }]
      ) {
        const stream = yield* openEventStream(server.url(resume.path), resume.headers)
        yield* eventually(ensure(() => stream.ids().length >= 15, "replay and live"))
        assert.strictEqual(stream.ids()[0], since + 1)
        assert.isTrue(consecutive(stream.ids()), stream.ids().join(","))
      }
      const junk = yield* openEventStream(server.url("/_ws/"), { "last-event-id": "abc" })
      assert.strictEqual(junk.status, 400)
    }))

  it.scopedLive("an EventSource that comes back after a restart gets the new sequence from its first integer", () =>
    Effect.gen(function*() {
      const server = yield* restartableServer({ intervalMs: 20 })
      const before = yield* openEventStream(server.url("/_ws/"))
      yield* eventually(ensure(() => before.ids().length >= 30, "events of the first sequence"))
      yield* server.stop
      const lastEventId = before.lastId()!
      yield* server.restart
      // Another client keeps the new sequence going while the stream is away, past where it was.
      const witness = yield* connect(server.wsUrl("/_ws/"))
      yield* eventually(ensure(() => witness.received.length >= 5, "the new sequence runs"))
      const after = yield* openEventStream(server.url("/_ws/"), { "last-event-id": lastEventId })
      yield* eventually(ensure(() => after.ids().length >= 10, "events of the new sequence"))
      assert.strictEqual(after.ids()[0], 1, after.ids().join(","))
      assert.isTrue(consecutive(after.ids()), after.ids().join(","))
    }))

  it.scopedLive("ALLOWED_ORIGINS: an allowed page gets CORS headers, another gets 403; streams count toward MAX_CONNECTIONS", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ allowedOrigins: ["https://good.example"], maxConnections: 2 })
      const good = yield* openEventStream(server.url("/_ws/"), { origin: "https://good.example" })
      assert.strictEqual(good.status, 200)
      assert.strictEqual(good.headers["access-control-allow-origin"], "https://good.example")
      const evil = yield* openEventStream(server.url("/_ws/"), { origin: "https://evil.example" })
      assert.strictEqual(evil.status, 403)
      yield* connect(server.wsUrl("/_ws/"))
      const full = yield* openEventStream(server.url("/_ws/"))
      assert.strictEqual(full.status, 503)
      assert.strictEqual(full.headers["x-vip-reached-origin"], "true")
    }))

  it.scopedLive("shutdown ends every stream within the drain", () =>
    Effect.gen(function*() {
      const server = yield* restartableServer({ intervalMs: 20 })
      const stream = yield* openEventStream(server.url("/_ws/"))
      yield* eventually(ensure(() => stream.ids().length >= 3, "events"))
      yield* server.stop
      yield* Deferred.await(stream.ended).pipe(Effect.timeout(Duration.seconds(5)))
    }))

  it.scopedLive("a stream asked for while the server drains ends at once with 200, so that EventSource comes back", () =>
    Effect.gen(function*() {
      const server = yield* restartableServer({ intervalMs: 20, shutdownTimeoutMs: 2000 })
      // A client that never answers the close handshake holds the drain open.
      yield* silentWebSocket(server.port)
      yield* Effect.forkScoped(server.stop)
      yield* eventually(
        Effect.promise(() => fetch(server.url("/cache-healthcheck"))).pipe(
          Effect.flatMap((response) => ensure(() => response.status === 503, "draining"))
        )
      )
      const late = yield* openEventStream(server.url("/_ws/"))
      yield* Deferred.await(late.ended).pipe(Effect.timeout(Duration.seconds(1)))
      // Any other status would make a browser's EventSource give up for good.
      assert.strictEqual(late.status, 200)
      assert.match(String(late.headers["content-type"]), /^text\/event-stream/)
      assert.strictEqual(late.headers["connection"], "close")
      assert.strictEqual(late.text(), "retry: 1000\n\n")
    }))
})
