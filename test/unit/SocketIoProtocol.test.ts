import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { decodePacket } from "engine.io-parser"
import { Decoder, PacketType } from "socket.io-parser"
import {
  connectAnswer,
  dialectOf,
  initialSession,
  integerEvent,
  openPacket,
  pingPacket,
  type Reaction,
  receive
} from "../../src/socketio/SocketIoProtocol.js"

const decodeSocketIo = (text: string) => {
  const decoder = new Decoder()
  let packet: unknown
  decoder.on("decoded", (p: unknown) => (packet = p))
  decoder.add(text)
  return packet as { type: number; nsp: string; data?: unknown }
}

const tags = (reactions: ReadonlyArray<Reaction>) => reactions.map((r) => r._tag)

describe("SocketIoProtocol", () => {
  it.prop(
    "an integer event decodes, with the official parsers, to the event `integer`, the number, and its offset last",
    [fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })],
    ([n]) => {
      const engine = decodePacket(integerEvent(n))
      assert.strictEqual(engine.type, "message")
      const packet = decodeSocketIo(engine.data as string)
      assert.deepStrictEqual(packet, { type: PacketType.EVENT, nsp: "/", data: ["integer", n, String(n)] })
    }
  )

  it.prop("the open packet carries the session id, no upgrades and the heartbeat terms", [
    fc.stringMatching(/^[A-Za-z0-9_-]{1,30}$/),
    fc.integer({ min: 1, max: 100_000 }),
    fc.integer({ min: 1, max: 100_000 }),
    fc.integer({ min: 125, max: 1_000_000 })
  ], ([id, pingIntervalMs, pingTimeoutMs, maxPayloadBytes]) => {
    const engine = decodePacket(openPacket(id, { pingIntervalMs, pingTimeoutMs, maxPayloadBytes }))
    assert.strictEqual(engine.type, "open")
    assert.deepStrictEqual(JSON.parse(engine.data as string), {
      sid: id,
      upgrades: [],
      pingInterval: pingIntervalMs,
      pingTimeout: pingTimeoutMs,
      maxPayload: maxPayloadBytes
    })
    assert.strictEqual(decodePacket(pingPacket).type, "ping")
  })

  it("classifies request targets", () => {
    assert.strictEqual(dialectOf("/socket.io/?EIO=4&transport=websocket")._tag, "SocketIo")
    assert.strictEqual(dialectOf("/socket.io/chat/?transport=websocket&EIO=4&t=x")._tag, "SocketIo")
    for (const plain of ["/socket.io/", "/socket.io/bar", "/_ws/?EIO=4&transport=websocket", "/socket.io/?x=1"]) {
      assert.strictEqual(dialectOf(plain)._tag, "Plain", plain)
    }
    const cases: ReadonlyArray<[string, number, RegExp]> = [
      ["/socket.io/?EIO=3&transport=websocket", 5, /EIO=3/],
      ["/socket.io/?EIO=4&transport=polling", 0, /long-polling is not available/],
      ["/socket.io/?EIO=4", 0, /long-polling is not available/],
      ["/socket.io/?EIO=4&transport=webtransport", 0, /Transport unknown/],
      ["/socket.io/?EIO=4&transport=websocket&sid=abc", 1, /Session ID unknown/]
    ]
    for (const [target, code, message] of cases) {
      const dialect = dialectOf(target)
      assert.strictEqual(dialect._tag, "Refuse", target)
      if (dialect._tag !== "Refuse") continue
      assert.strictEqual(dialect.status, 400)
      const body = JSON.parse(dialect.body)
      assert.strictEqual(body.code, code, target)
      assert.match(body.message, message)
    }
  })

  it.prop("any EIO other than 4 is refused with code 5", [fc.string({ maxLength: 5 })], ([revision]) => {
    fc.pre(revision !== "4")
    const dialect = dialectOf(`/socket.io/?EIO=${encodeURIComponent(revision)}&transport=websocket`)
    assert.strictEqual(dialect._tag === "Refuse" && JSON.parse(dialect.body).code, 5)
  })

  it("joins \"/\" once, handing over the CONNECT payload; the answer is Socket.IO v5's, with a pid", () => {
    const first = receive(initialSession, "40")
    assert.deepStrictEqual(first.reactions, [{ _tag: "Join", payload: undefined }])
    assert.isTrue(first.state.joined)
    assert.deepStrictEqual(receive(first.state, "40").reactions, [])
    const claim = receive(initialSession, "40{\"pid\":\"abc.7\",\"offset\":\"9\"}").reactions
    assert.deepStrictEqual(claim, [{ _tag: "Join", payload: { pid: "abc.7", offset: "9" } }])
    assert.strictEqual(connectAnswer("test-sid", "abc.7"), "40{\"sid\":\"test-sid\",\"pid\":\"abc.7\"}")
  })

  it("refuses other namespaces with a connect error", () => {
    const { reactions, state } = receive(initialSession, "40/admin,")
    assert.isFalse(state.joined)
    assert.strictEqual(reactions.length, 1)
    const packet = reactions[0]
    assert.strictEqual(packet?._tag, "Send")
    if (packet?._tag !== "Send") return
    const decoded = decodeSocketIo(String(decodePacket(packet.packet).data))
    assert.deepStrictEqual(decoded, {
      type: PacketType.CONNECT_ERROR,
      nsp: "/admin",
      data: { message: "Invalid namespace" }
    })
  })

  it("answers pongs, pings, closes and client events as documented", () => {
    assert.deepStrictEqual(tags(receive(initialSession, "3").reactions), ["Pong"])
    assert.deepStrictEqual(receive(initialSession, "2probe").reactions, [{ _tag: "Send", packet: "3probe" }])
    assert.deepStrictEqual(tags(receive(initialSession, "1").reactions), ["Close"])
    assert.deepStrictEqual(receive({ joined: true }, "42[\"hello\",1]").reactions, [])
    assert.deepStrictEqual(tags(receive({ joined: true }, "41").reactions), ["Close"])
    assert.deepStrictEqual(receive(initialSession, "6").reactions, [])
  })

  it("closes on malformed packets and on binary frames", () => {
    for (
      const bad of [
        "",
        "9",
        "x",
        "4",
        "4{",
        "47",
        "44/,{}",
        "42[\"a\"",
        "0{}",
        "4 ",
        "4\t",
        "40null",
        "40[1]",
        "40\"x\""
      ]
    ) {
      const { reactions } = receive(initialSession, bad)
      assert.deepStrictEqual(tags(reactions), ["Close"], JSON.stringify(bad))
    }
    const binary = receive(initialSession, undefined).reactions[0]
    assert.strictEqual(binary?._tag === "Close" && binary.code, 1003)
  })

  it.prop("never throws on arbitrary input, and only a connect to \"/\" joins", [
    fc.array(fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom("40", "3", "2", "41", "42[1]", "40/x,")), {
      maxLength: 20
    })
  ], ([frames]) => {
    let state = initialSession
    let joins = 0
    for (const frame of frames) {
      const result = receive(state, frame)
      for (const reaction of result.reactions) {
        assert.include(["Send", "Join", "Pong", "Close"], reaction._tag)
        if (reaction._tag === "Join") {
          joins++
          assert.match(frame, /^40(\{.*\})?$/)
        }
      }
      state = result.state
    }
    assert.isAtMost(joins, 1)
    assert.strictEqual(state.joined, joins === 1)
  })
})
