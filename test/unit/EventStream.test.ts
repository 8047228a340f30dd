import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { integerEvent, lastEventIdOf, wantsEventStream } from "../../src/wire/EventStream.js"

describe("event streams", () => {
  it.prop("an integer is one event with the integer as its id and its data", [fc.nat()], ([n]) => {
    const text = String(integerEvent(n))
    assert.strictEqual(text, `id: ${n}\ndata: ${n}\n\n`)
    assert.strictEqual(text.split("\n\n").length, 2, "exactly one event")
  })

  it.prop("Last-Event-ID: whole numbers resume after themselves, anything else is refused", [fc.string()], ([
    header
  ]) => {
    const resume = lastEventIdOf(header)
    if (/^\d{1,15}$/.test(header.trim())) assert.deepStrictEqual(resume, { _tag: "Since", after: Number(header) })
    else assert.deepStrictEqual(resume, { _tag: "Invalid" })
  })

  it("asks for a stream only with text/event-stream among the accepted types", () => {
    assert.isTrue(wantsEventStream("text/event-stream"))
    assert.isTrue(wantsEventStream("text/html, text/event-stream;q=0.9"))
    assert.isFalse(wantsEventStream(undefined))
    assert.isFalse(wantsEventStream("*/*"))
    assert.isFalse(wantsEventStream("text/event-streams"))
    assert.deepStrictEqual(lastEventIdOf(undefined), { _tag: "Absent" })
  })
})
