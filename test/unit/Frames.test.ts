import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import type { EventEmitter } from "node:events"
import { createRequire } from "node:module"
import { wholeTextFrame } from "../../src/wire/Frames.js"

// ws's own frame parser: exported by the package, though its type declarations leave it out.
const Receiver = createRequire(import.meta.url)("ws").Receiver as new(options: { readonly isServer: boolean }) =>
  & EventEmitter
  & { write(bytes: Buffer): void }

/** What ws itself reads from bytes a server wrote: the messages, as a client gets them. */
const readByWs = (bytes: Buffer): Array<string> => {
  const messages: Array<string> = []
  const receiver = new Receiver({ isServer: false })
  receiver.on("message", (data: Buffer, isBinary: boolean) => {
    assert.isFalse(isBinary)
    messages.push(String(data))
  })
  receiver.write(bytes)
  return messages
}

describe("whole text frames", () => {
  it.prop("ws reads back exactly the payload, at every length form (7-bit, 16-bit, 64-bit)", [
    fc.oneof(fc.string({ maxLength: 200 }), fc.string({ minLength: 60_000, maxLength: 70_000 }))
  ], ([text]) => {
    assert.deepStrictEqual(readByWs(wholeTextFrame(Buffer.from(text))), [text])
  })

  it.prop("frames written back to back are read as as many messages", [fc.array(fc.nat(), { maxLength: 50 })], ([
    integers
  ]) => {
    const bytes = Buffer.concat(integers.map((n) => wholeTextFrame(Buffer.from(String(n)))))
    assert.deepStrictEqual(readByWs(bytes), integers.map(String))
  })
})
