/**
 * A stream whose client stops reading is ended as a slow consumer. The server's unsent bytes
 * must grow past the kernel's socket buffers (megabytes on loopback) for that to show, so the
 * stream asks to replay a million integers: the shared forge lets a test set the counter high.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import * as Net from "node:net"
import { ensure, eventually } from "../support/Eventually.js"
import { httpUrl, wsUrl } from "../support/LocalUrls.js"
import { scrapeMetrics } from "../support/Metrics.js"
import { redisClient, redisServer, redisServerBinary } from "../support/RedisServer.js"
import { consecutive } from "../support/Sequences.js"
import { spawnService, waitForPort } from "../support/ServiceProcess.js"
import { connect } from "../support/WebSocketClient.js"

/** Asks for a stream that replays after `since`, then never reads a byte of it. */
const neverReading = (port: number, since: number) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const socket = Net.connect({ port, host: "127.0.0.1" }, () => {
        socket.write(`GET /_ws/?since=${since} HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n`)
        socket.pause()
      })
      socket.on("error", () => {})
      return socket
    }),
    (socket) => Effect.sync(() => socket.destroy())
  )

describe.skipIf(redisServerBinary.skip)("an event stream whose client never reads", () => {
  it.scopedLive("is ended as a slow consumer, and the others keep every integer", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const prefix = "shed-test"
      yield* Effect.flatMap(redisClient(redis.url), (admin) =>
        Effect.promise(() => admin.set(`${prefix}:counter`, "2000000")))
      const service = yield* spawnService({
        PORT: "0",
        HOST: "127.0.0.1",
        REDIS_URL: redis.url,
        REDIS_PREFIX: prefix,
        FORGE_INTERVAL_MS: "50",
        REPLAY_CAPACITY: "1000000",
        MAX_BUFFERED_BYTES: "1024"
      })
      const port = yield* waitForPort(service)
      const witness = yield* connect(wsUrl(port, "/_ws/"))
      yield* eventually(
        ensure(() =>
          witness.received.length >= 2, "integers"),
        Duration.seconds(10)
      )
      yield* neverReading(port, 1_000_000)
      const read = () => scrapeMetrics(httpUrl(port, "/metrics"))
      yield* eventually(
        Effect.flatMap(
          read(),
          (metrics) => ensure(() => (metrics("forge_slow_consumer_disconnects_total") ?? 0) >= 1, "the stream was shed")
        ),
        Duration.seconds(20)
      )
      assert.strictEqual((yield* read())("forge_connections_open", { protocol: "sse" }), 0)
      const mark = witness.received.length
      yield* eventually(ensure(() => witness.received.length >= mark + 5, "the witness goes on"))
      assert.isTrue(consecutive(witness.received), "the witness missed nothing")
    }), 60_000)
})
