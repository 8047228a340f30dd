/**
 * Socket.IO's connection-state recovery on the in-process service, with the real socket.io-client
 * and, for what socket.io-client would never send, a raw WebSocket speaking Engine.IO.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect } from "effect"
import { WebSocket } from "ws"
import { ensure, eventually } from "../support/Eventually.js"
import { restartableServer } from "../support/RestartableServer.js"
import { consecutive } from "../support/Sequences.js"
import { socketIoClient } from "../support/SocketIoClient.js"
import { startServer } from "../support/TestServer.js"
import { connect } from "../support/WebSocketClient.js"

const socketIoPath = "/socket.io/?EIO=4&transport=websocket"

/** A WebSocket that speaks Engine.IO by hand: every frame it receives, and its close code. */
const rawSocketIo = (url: string) =>
  Effect.gen(function*() {
    const frames: Array<string> = []
    const closed = yield* Deferred.make<number>()
    const ws = yield* Effect.acquireRelease(
      Effect.async<WebSocket>((resume) => {
        const ws = new WebSocket(url)
        ws.on("message", (data) => frames.push(String(data)))
        ws.on("close", (code) => Deferred.unsafeDone(closed, Effect.succeed(code)))
        ws.on("error", () => {})
        ws.once("open", () => resume(Effect.succeed(ws)))
      }),
      (ws) => Effect.sync(() => ws.terminate())
    )
    const answer = () => {
      const frame = frames.find((f) => f.startsWith("40"))
      return frame === undefined ? undefined : JSON.parse(frame.slice(2)) as { sid: string; pid: string }
    }
    const events = () =>
      frames.filter((f) => f.startsWith("42")).map((f) => JSON.parse(f.slice(2)) as [string, number, string])
    return { ws, frames, closed, answer, events }
  })

/** The server's side of the one WebSocket that is not `besides`: the Socket.IO client's, here. */
const serverSideOf = (sockets: Iterable<unknown>, besides: unknown) =>
  [...sockets].find((s) => s !== besides) as WebSocket | undefined

describe("Socket.IO connection-state recovery", () => {
  it.scopedLive("the CONNECT answer names the sequence in its pid; each integer event carries its offset last", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20 })
      const raw = yield* rawSocketIo(server.wsUrl(socketIoPath))
      raw.ws.send("40")
      yield* eventually(ensure(() => raw.events().length >= 3, "integer events"))
      const answer = raw.answer()!
      assert.match(answer.pid, new RegExp(`^${server.forge.sequence}\\.\\d+$`))
      assert.match(answer.sid, /^[\w-]{20}$/)
      for (const [name, n, offset] of raw.events()) assert.deepStrictEqual([name, offset], ["integer", String(n)])
      assert.strictEqual(Number(answer.pid.split(".")[1]) + 1, raw.events()[0]![1], "the pid starts before the first")

      const client = yield* socketIoClient(server.url(""))
      const args: Array<ReadonlyArray<unknown>> = []
      client.socket.onAny((...received: Array<unknown>) => args.push(received))
      yield* eventually(ensure(() => client.integers.length >= 3, "integers"))
      assert.isTrue(client.integers.every((n) => typeof n === "number"), "on(\"integer\", (n) => …) gets numbers")
      yield* eventually(ensure(() => args.length >= 2, "events seen by onAny"))
      for (const event of args) assert.deepStrictEqual(event, ["integer", event[1], String(event[1])])
      assert.deepStrictEqual(client.connections, [{ recovered: false, pid: client.connections[0]!.pid }])
      assert.match(client.connections[0]!.pid!, new RegExp(`^${server.forge.sequence}\\.`))
    }))

  it.scopedLive("after dropped connections the client comes back recovered, with its pid, missing and repeating nothing", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20 })
      // A witness keeps the forge forging while the client is away.
      const witness = yield* connect(server.wsUrl("/_ws/"))
      const witnessSide = [...server.openSockets][0]
      const client = yield* socketIoClient(server.url(""))
      yield* eventually(ensure(() => client.integers.length >= 3, "integers"))
      const clientSide = () => serverSideOf(server.openSockets, witnessSide)
      for (let drop = 1; drop <= 3; drop++) {
        const seen = client.integers.length
        const forged = witness.received.length
        // A network that fails: no close frame, the client finds out on its own.
        clientSide()!.terminate()
        yield* eventually(ensure(() => client.connects() === drop + 1, "reconnected"), Duration.seconds(10))
        yield* eventually(ensure(() => client.integers.length >= seen + 5, "integers again"))
        assert.isAbove(witness.received.length, forged, "integers were forged while the client was away")
      }
      assert.deepStrictEqual(client.connections.map((c) => c.recovered), [false, true, true, true])
      assert.strictEqual(new Set(client.connections.map((c) => c.pid)).size, 1, "one pid throughout")
      assert.isTrue(consecutive(client.integers), client.integers.join(","))
    }))

  it.scopedLive("after an in-process restart the client is not recovered: a new pid, of the new sequence", () =>
    Effect.gen(function*() {
      const server = yield* restartableServer({ intervalMs: 20 })
      const client = yield* socketIoClient(server.url(""))
      yield* eventually(ensure(() => client.integers.length >= 5, "integers from the first server"))
      yield* server.stop
      const seen = client.integers.length
      const second = yield* server.restart
      // Another client keeps the new sequence going before this one is back.
      const witness = yield* connect(second.wsUrl("/_ws/"))
      yield* eventually(ensure(() => witness.received.length >= 3, "the new sequence runs"))
      yield* eventually(ensure(() => client.connects() === 2, "reconnected"), Duration.seconds(10))
      yield* eventually(ensure(() => client.integers.length >= seen + 3, "integers from the second server"))
      const [first, again] = client.connections
      assert.strictEqual(client.integers[seen], 1, "the new sequence from its first integer, though it ran before")
      assert.isTrue(consecutive(client.integers.slice(seen)), client.integers.slice(seen).join(","))
      assert.isFalse(again!.recovered)
      assert.notStrictEqual(again!.pid, first!.pid)
      assert.match(again!.pid!, new RegExp(`^${second.forge.sequence}\\.\\d+$`))
      assert.notStrictEqual(second.forge.sequence, server.forge.sequence)
    }))

  it.scopedLive("a client away longer than REPLAY_CAPACITY is not recovered, and recovers again on its new pid", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20, replayCapacity: 10 })
      const witness = yield* connect(server.wsUrl("/_ws/"))
      const client = yield* socketIoClient(server.url(""))
      yield* eventually(ensure(() => client.integers.length >= 3, "integers"))
      // Away for about 25 intervals: more than the 10 integers held.
      client.socket.disconnect()
      const gone = client.integers.at(-1)!
      yield* eventually(ensure(() => Number(witness.received.at(-1)) > gone + 25, "integers forged meanwhile"))
      client.socket.connect()
      yield* eventually(ensure(() => client.connects() === 2 && client.integers.length >= 6, "back"))
      assert.isFalse(client.connections[1]!.recovered)
      assert.notStrictEqual(client.connections[1]!.pid, client.connections[0]!.pid)
      const after = client.integers[client.integers.indexOf(gone) + 1]!
      assert.isAbove(after, gone + 1, "the integers that were no longer held are missed")
      // Back within the window on the new pid: recovered.
      const seen = client.integers.length
      client.socket.disconnect()
      client.socket.connect()
      yield* eventually(ensure(() => client.connects() === 3 && client.integers.length >= seen + 3, "back again"))
      assert.isTrue(client.connections[2]!.recovered)
      assert.strictEqual(client.connections[2]!.pid, client.connections[1]!.pid)
      assert.isTrue(consecutive(client.integers.slice(client.integers.indexOf(after))), client.integers.join(","))
    }))

  it.scopedLive("?since= on the URL counts on the first connection; after a drop the client's offset counts", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20 })
      const witness = yield* connect(server.wsUrl("/_ws/"))
      yield* eventually(ensure(() => witness.received.length >= 6, "integers"))
      const witnessSide = [...server.openSockets][0]
      const since = Number(witness.received[1])
      const client = yield* socketIoClient(server.url(""), { query: { since } })
      yield* eventually(ensure(() => client.integers.length >= 8, "replay and live"))
      assert.strictEqual(client.integers[0], since + 1)
      serverSideOf(server.openSockets, witnessSide)!.terminate()
      const seen = client.integers.length
      yield* eventually(ensure(() => client.connects() === 2, "reconnected"), Duration.seconds(10))
      yield* eventually(ensure(() => client.integers.length >= seen + 5, "integers again"))
      assert.isTrue(client.connections[1]!.recovered)
      assert.isTrue(consecutive(client.integers), client.integers.join(","))
    }))

  it.scopedLive("a claim in the window replays exactly the integers after its offset, or its pid's start, after the answer", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20 })
      const witness = yield* connect(server.wsUrl("/_ws/"))
      yield* eventually(ensure(() => witness.received.length >= 10, "integers"))
      const [first, third, sixth] = [0, 2, 5].map((i) => Number(witness.received[i]))
      const pidFrom = (start: number) => `${server.forge.sequence}.${start}`
      // socket.io-client sends no offset after a connection that got no integer, or the offset of
      // an earlier connection, which it keeps: both say the client has everything up to the start.
      const claims: ReadonlyArray<[Record<string, string>, number]> = [
        [{ pid: pidFrom(0), offset: String(third) }, third],
        [{ pid: pidFrom(sixth) }, sixth],
        [{ pid: pidFrom(sixth), offset: String(first) }, sixth]
      ]
      for (const [claim, after] of claims) {
        const raw = yield* rawSocketIo(server.wsUrl(socketIoPath))
        raw.ws.send(`40${JSON.stringify(claim)}`)
        yield* eventually(ensure(() => raw.events().length >= 12, "replay and live"))
        assert.strictEqual(raw.answer()!.pid, claim["pid"], "the client's own pid back: recovered")
        assert.isBelow(raw.frames.findIndex((f) => f.startsWith("40")), raw.frames.findIndex((f) => f.startsWith("42")))
        const numbers = raw.events().map(([, n]) => n)
        assert.strictEqual(numbers[0], after + 1, JSON.stringify(claim))
        assert.isTrue(consecutive(numbers), numbers.join(","))
      }
    }))

  it.scopedLive("a client whose connection ended before its first integer recovers from where that one started", () =>
    Effect.gen(function*() {
      // The client is the first member: the first integer is due an interval after it joins,
      // long after the cut.
      const server = yield* startServer({ intervalMs: 500 })
      const client = yield* socketIoClient(server.url(""), { autoConnect: false, reconnection: false })
      const cut = yield* Deferred.make<void>()
      client.socket.once("connect", () => serverSideOf(server.openSockets, undefined)!.terminate())
      client.socket.once("disconnect", () => Deferred.unsafeDone(cut, Effect.void))
      client.socket.connect()
      yield* Deferred.await(cut)
      assert.lengthOf(client.integers, 0)
      // Integers forged while it is away: it must get them, from where its first connection began.
      const witness = yield* connect(server.wsUrl("/_ws/"))
      yield* eventually(ensure(() => witness.received.length >= 2, "integers meanwhile"), Duration.seconds(10))
      client.socket.connect()
      yield* eventually(ensure(() => client.integers.length >= 3, "integers"), Duration.seconds(10))
      assert.deepStrictEqual(client.connections.map((c) => c.recovered), [false, true])
      assert.strictEqual(client.connections[1]!.pid, client.connections[0]!.pid)
      assert.strictEqual(client.integers[0], 1)
      assert.isTrue(consecutive(client.integers), client.integers.join(","))
    }))

  it.scopedLive("a malformed or foreign claim is a clean, fresh connection; a CONNECT that does not parse closes 1002", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ intervalMs: 20 })
      const witness = yield* connect(server.wsUrl("/_ws/"))
      yield* eventually(ensure(() => witness.received.length >= 3, "integers"))
      const ours = server.forge.sequence!
      const payloads = [
        { pid: 5, offset: "1" },
        { pid: null },
        { pid: `${ours}.x`, offset: "1" },
        { pid: `${ours}.1`, offset: "-1" },
        { pid: `${ours}.1`, offset: 2 },
        { pid: `${ours}.1`, offset: "99999999999999999999" },
        { pid: `${ours}.1`, offset: { n: 1 } },
        { pid: "restarted.1", offset: "2" },
        { pid: ours, offset: "2" }
      ]
      for (const payload of payloads) {
        const raw = yield* rawSocketIo(server.wsUrl(socketIoPath))
        raw.ws.send(`40${JSON.stringify(payload)}`)
        yield* eventually(ensure(() => raw.events().length >= 2, `integers after ${JSON.stringify(payload)}`))
        const pid = raw.answer()!.pid
        assert.match(pid, new RegExp(`^${ours}\\.\\d+$`), JSON.stringify(payload))
        assert.notStrictEqual(pid, payload.pid, "not recovered")
        const numbers = raw.events().map(([, n]) => n)
        assert.strictEqual(numbers[0], Number(pid.split(".")[1]) + 1, "live from where the new pid starts")
        assert.strictEqual(raw.ws.readyState, WebSocket.OPEN)
      }
      const broken = yield* rawSocketIo(server.wsUrl(socketIoPath))
      broken.ws.send("40{\"pid\":")
      assert.strictEqual(yield* Deferred.await(broken.closed).pipe(Effect.timeout(Duration.seconds(5))), 1002)
      const still = witness.received.length
      yield* eventually(ensure(() => witness.received.length > still, "the server carries on"))
    }))
})
