import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { parseWholeNumber, plainIntegerFrame } from "../../src/wire/WholeNumber.js"

describe("WholeNumber", () => {
  it.prop("reads back every whole number of up to 15 digits it writes", [
    fc.integer({ min: 0, max: 999_999_999_999_999 })
  ], ([
    n
  ]) => {
    assert.strictEqual(parseWholeNumber(String(plainIntegerFrame(n))), n)
  })

  it.prop("refuses anything that is not plain digits", [fc.string()], ([text]) => {
    const n = parseWholeNumber(text)
    if (/^\d{1,15}$/.test(text)) assert.strictEqual(n, Number(text))
    else assert.isUndefined(n)
  })

  it("refuses what Number() would take", () => {
    for (const text of ["", " 7", "7 ", "0x10", "1e3", "-1", "+1", "1.5", "1234567890123456"]) {
      assert.isUndefined(parseWholeNumber(text), JSON.stringify(text))
    }
  })
})
