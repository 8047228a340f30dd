import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Stream } from "effect"
import { WebSocketServer } from "ws"
import { type ClientEvent, events, integers } from "../../src/client/IntegerClient.js"
import { defaultPolicy } from "../../src/client/ReconnectPolicy.js"
import { ensure, eventually } from "../support/Eventually.js"
import { wsUrl } from "../support/LocalUrls.js"
import { silentWebSocket } from "../support/RawSocket.js"
import { restartableServer } from "../support/RestartableServer.js"
import { consecutive } from "../support/Sequences.js"
import { socketIoClient } from "../support/SocketIoClient.js"
import { startServer } from "../support/TestServer.js"
import { connect, refusedUpgrade } from "../support/WebSocketClient.js"

const fastPolicy = { policy: { baseMs: 20, capMs: 200 } }

/** Runs the client's integer stream in the background, collecting what it yields. */
const collect = (url: string) =>
  Effect.gen(function*() {
    const seen: Array<number> = []
    const fiber = yield* integers(url, fastPolicy).pipe(
      Stream.runForEach((n) => Effect.sync(() => seen.push(n))),
      Effect.forkScoped
    )
    return { seen, fiber }
  })

/** Runs the client's event stream in the background, collecting every event. */
const collectEvents = (url: string) =>
  Effect.gen(function*() {
    const seen: Array<ClientEvent> = []
    yield* events(url, fastPolicy).pipe(
      Stream.runForEach((event) => Effect.sync(() => seen.push(event))),
      Effect.forkScoped
    )
    return seen
  })

describe("the reconnecting client", () => {
  it.scopedLive("keeps receiving across a server restart on the same port, and says the sequence restarted", () =>
    Effect.gen(function*() {
      const server = yield* restartableServer({ intervalMs: 20 })
      const seen = yield* collectEvents(server.wsUrl("/_ws/"))
      const integersSeen = () => seen.flatMap((e) => e._tag === "Integer" ? [e.value] : [])
      yield* eventually(ensure(() => integersSeen().length >= 10, "integers from the first server"))
      yield* server.stop
      const lastSeen = integersSeen().at(-1)!
      yield* server.restart
      yield* eventually(ensure(() => integersSeen().length >= 13, "integers from the second server"))
      const restarts = seen.filter((e) => e._tag === "SequenceRestarted")
      assert.deepStrictEqual(restarts, [{ _tag: "SequenceRestarted", lastSeen }])
      const after = seen.slice(seen.indexOf(restarts[0]!)).flatMap((e) => e._tag === "Integer" ? [e.value] : [])
      assert.isTrue(consecutive(after), after.join(","))
      assert.strictEqual(after[0], 1, "the new sequence from its first integer")
    }))

  it.scopedLive("a lost connection that resumes on the same sequence is no restart", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20 })
      const seen = yield* collectEvents(server.wsUrl("/_ws/"))
      yield* eventually(ensure(() => seen.filter((e) => e._tag === "Integer").length >= 5, "integers"))
      for (const ws of server.openSockets) ws.terminate()
      yield* eventually(ensure(() => seen.filter((e) => e._tag === "Connected").length === 2, "reconnected"))
      yield* eventually(ensure(() => seen.filter((e) => e._tag === "Integer").length >= 10, "integers again"))
      assert.isFalse(seen.some((e) => e._tag === "SequenceRestarted"))
    }))

  it.scopedLive("resumes without a gap after its socket is cut off, thanks to since=", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20 })
      // A second client keeps the forge running while ours reconnects.
      yield* connect(server.wsUrl("/_ws/"))
      const client = yield* collect(server.wsUrl("/_ws/"))
      yield* eventually(ensure(() => client.seen.length >= 5, "integers"))
      for (let cut = 0; cut < 3; cut++) {
        const mark = client.seen.length
        const theirs = [...server.openSockets].at(-1)!
        theirs.terminate()
        yield* eventually(ensure(() => client.seen.length >= mark + 10, "integers after the cut"))
      }
      assert.isTrue(consecutive(client.seen), client.seen.join(","))
    }))

  it.scopedLive("stops cleanly on interruption, closing its socket", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20 })
      const client = yield* collect(server.wsUrl("/_ws/"))
      yield* eventually(ensure(() => client.seen.length >= 2, "integers"))
      yield* Fiber.interrupt(client.fiber)
      yield* eventually(ensure(() => server.openSockets.size === 0 && server.registry.size() === 0, "released"))
    }))

  it.scopedLive("fails, without retrying, on a refused path and on a close that means do not come back", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const refused = yield* integers(server.wsUrl("/nope"), fastPolicy).pipe(Stream.runDrain, Effect.flip)
      assert.strictEqual(refused._tag, "Refused")
      assert.include(refused.message, "404")
      const invalid = yield* integers("ftp://127.0.0.1/_ws/").pipe(Stream.runDrain, Effect.flip)
      assert.strictEqual(invalid._tag, "InvalidUrl")
      // The same server by its http: URL is a ws: URL.
      const overHttp = yield* integers(server.url("/_ws/"), fastPolicy).pipe(Stream.take(2), Stream.runCollect)
      assert.strictEqual(overHttp.length, 2)
      // A real ws server that sends 4001 (an application's "do not come back").
      const wss = yield* Effect.acquireRelease(
        Effect.async<WebSocketServer>((resume) => {
          const s: WebSocketServer = new WebSocketServer(
            { port: 0, host: "127.0.0.1" },
            () => resume(Effect.succeed(s))
          )
        }),
        (s) => Effect.async<void>((resume) => s.close(() => resume(Effect.void)))
      )
      let connections = 0
      wss.on("connection", (ws) => {
        connections++
        ws.send("7")
        ws.close(4001, "banned")
      })
      const port = (wss.address() as { port: number }).port
      const result = yield* events(wsUrl(port, "/_ws/"), fastPolicy).pipe(Stream.runCollect, Effect.either)
      assert.strictEqual(result._tag, "Left")
      if (result._tag === "Left") {
        assert.strictEqual(result.left._tag, "ClosedForGood")
        assert.include(result.left.message, "4001")
      }
      assert.strictEqual(connections, 1)
    }))

  it.scopedLive("retries within the base after 1012, and with backoff after an abnormal close", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20 })
      const seen: Array<{ readonly _tag: "Reconnecting"; readonly why: string; readonly delayMs: number }> = []
      const done = yield* Deferred.make<void>()
      yield* events(server.wsUrl("/_ws/"), fastPolicy).pipe(
        Stream.runForEach((event) =>
          event._tag === "Reconnecting"
            ? Effect.sync(() => seen.push(event)).pipe(
              Effect.zipRight(Effect.suspend(() => seen.length >= 2 ? Deferred.succeed(done, undefined) : Effect.void))
            )
            : Effect.void
        ),
        Effect.forkScoped
      )
      yield* eventually(ensure(() => server.openSockets.size === 1, "connected"))
      for (const ws of server.openSockets) ws.close(1012, "server restarting")
      yield* eventually(ensure(() => seen.length === 1 && server.openSockets.size === 1, "reconnected"))
      for (const ws of server.openSockets) ws.terminate()
      yield* Deferred.await(done)
      assert.strictEqual(seen[0]!.why, "closed with 1012 (server restarting)")
      assert.isBelow(seen[0]!.delayMs, 20, "the first retry after a restart waits under baseMs")
      assert.match(seen[1]!.why, /closed with 1006/)
      // Retry 0 or 1, whether or not the connection after the 1012 had delivered an integer yet.
      assert.isBelow(seen[1]!.delayMs, 40)
    }))

  it.scopedLive("after 1012, a few 503s that say the instance drains are retried quickly, then the backoff grows", () =>
    Effect.gen(function*() {
      const server = yield* restartableServer({ intervalMs: 20, shutdownTimeoutMs: 2000 })
      // A client that never answers the close handshake keeps the instance draining for 2 s.
      yield* silentWebSocket(server.port)
      const seen = yield* collectEvents(server.wsUrl("/_ws/"))
      yield* eventually(ensure(() => seen.some((e) => e._tag === "Integer"), "integers"))
      yield* Effect.forkScoped(server.stop)
      const retries = () => seen.filter((e) => e._tag === "Reconnecting")
      yield* eventually(ensure(() => retries().length >= 8, "retries"))
      const [afterClose, ...refusals] = retries()
      assert.strictEqual(afterClose!.why, "closed with 1012 (server restarting)")
      for (const refusal of refusals.slice(0, 7)) assert.strictEqual(refusal.why, "refused with HTTP 503 (draining)")
      const quick = defaultPolicy.quickRetries!
      for (const { delayMs } of refusals.slice(0, quick)) assert.isBelow(delayMs, 10, "quick: under baseMs / 2")
      // Then the backoff counts again from where the close left it: retry 1, 2, …
      refusals.slice(quick, 7).forEach(({ delayMs }, k) => assert.isBelow(delayMs, 20 * 2 ** (k + 1)))
    }))
})

describe("resume on the server (?since=N)", () => {
  it.scopedLive("replays what a plain client missed, then continues live", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20 })
      const witness = yield* connect(server.wsUrl("/_ws/"))
      yield* eventually(ensure(() => witness.received.length >= 10, "integers"))
      const since = Number(witness.received[2])
      const late = yield* connect(server.wsUrl(`/_ws/?since=${since}`))
      yield* eventually(ensure(() => late.received.length >= 15, "replay and live"))
      const got = late.received.map(Number)
      assert.strictEqual(got[0], since + 1)
      assert.isTrue(consecutive(got), got.join(","))
    }))

  it.scopedLive("replays to Socket.IO clients too, as integer events", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20 })
      const witness = yield* connect(server.wsUrl("/_ws/"))
      yield* eventually(ensure(() => witness.received.length >= 6, "integers"))
      const since = Number(witness.received[1])
      const { integers: got } = yield* socketIoClient(server.url(""), { query: { since } })
      yield* eventually(ensure(() => got.length >= 10, "replay and live"))
      assert.strictEqual(got[0], since + 1)
      assert.isTrue(consecutive(got), got.join(","))
    }))

  it.scopedLive("a since older than what is held replays what is held, as does one ahead; junk gets 400", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20, replayCapacity: 5 })
      const witness = yield* connect(server.wsUrl("/_ws/"))
      yield* eventually(ensure(() => witness.received.length >= 15, "integers"))
      const old = yield* connect(server.wsUrl("/_ws/?since=1"))
      yield* eventually(ensure(() => old.received.length >= 8, "held and live integers"))
      const got = old.received.map(Number)
      assert.isAbove(got[0]!, 2, "the jump: integers 2.. are no longer held")
      assert.isAtLeast(got[0]!, Number(witness.received[14]) - 4, "at most REPLAY_CAPACITY replayed")
      assert.isTrue(consecutive(got), got.join(","))
      // Only a sequence that is gone can be ahead of an in-process one: what is held, from its oldest.
      const lastForged = Number(witness.received.at(-1))
      const ahead = yield* connect(server.wsUrl("/_ws/?since=999999"))
      yield* eventually(ensure(() => ahead.received.length >= 2, "held integers"))
      assert.isBelow(Number(ahead.received[0]), lastForged, ahead.received.join(","))
      for (const junk of ["-1", "abc", "1.5", ""]) {
        assert.strictEqual((yield* refusedUpgrade(server.wsUrl(`/_ws/?since=${junk}`))).status, 400, junk)
      }
    }))
})
