import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { integerEvent, lastEventIdOf, wantsEventStream } from "../../src/wire/EventStream.js"

const sequenceName = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/)

describe("event streams", () => {
  it.prop(
    "an integer is one event: its data the integer, its id the sequence and the integer, which Last-Event-ID gives back",
    [sequenceName, fc.nat()],
    ([sequence, n]) => {
      const text = String(integerEvent(sequence, n))
      assert.strictEqual(text, `id: ${sequence}.${n}\ndata: ${n}\n\n`)
      assert.strictEqual(text.split("\n\n").length, 2, "exactly one event")
      assert.deepStrictEqual(lastEventIdOf(`${sequence}.${n}`), { _tag: "Since", point: { after: n, sequence } })
    }
  )

  it.prop(
    "Last-Event-ID: <name>.<n> or a bare <n> resumes after n, anything else is refused",
    [fc.oneof(fc.string(), fc.tuple(fc.string(), fc.nat()).map(([s, n]) => `${s}.${n}`))],
    ([header]) => {
      const resume = lastEventIdOf(header)
      const named = /^([A-Za-z0-9_-]{1,64})\.(\d{1,15})$/.exec(header.trim())
      if (/^\d{1,15}$/.test(header.trim())) {
        assert.deepStrictEqual(resume, { _tag: "Since", point: { after: Number(header), sequence: undefined } })
      } else if (named !== null) {
        assert.deepStrictEqual(resume, { _tag: "Since", point: { after: Number(named[2]), sequence: named[1] } })
      } else assert.deepStrictEqual(resume, { _tag: "Invalid" })
    }
  )

  it("asks for a stream only with text/event-stream among the accepted types", () => {
    assert.isTrue(wantsEventStream("text/event-stream"))
    assert.isTrue(wantsEventStream("text/html, text/event-stream;q=0.9"))
    assert.isFalse(wantsEventStream(undefined))
    assert.isFalse(wantsEventStream("*/*"))
    assert.isFalse(wantsEventStream("text/event-streams"))
    assert.deepStrictEqual(lastEventIdOf(undefined), { _tag: "Absent" })
  })
})
