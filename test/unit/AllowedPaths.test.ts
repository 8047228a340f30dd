import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { allowedPrefixes, isAllowedPath, isAllowedTarget, requestPath } from "../../src/wire/RequestTarget.js"

// Path characters a client may send, without `?` and `#` (those end the path) and without `.`,
// which the dot-segment rule treats separately.
const segmentChar = fc.constantFrom(..."abcXYZ019-_~%2Ef!$&'()*+,;=:@".split(""))
const segment = fc.string({ unit: segmentChar, maxLength: 8 }).filter((s) => s !== "." && s !== "..")
const tail = fc.array(segment, { maxLength: 4 }).map((parts) => parts.join("/"))
const prefix = fc.constantFrom(...allowedPrefixes)
const query = fc.option(fc.string({ maxLength: 12 }).map((q) => "?" + q), { nil: undefined })

describe("AllowedPaths", () => {
  it("accepts and refuses the documented examples", () => {
    for (const target of ["/_ws/", "/_ws/foo", "/_ws/?a=1", "/socket.io/", "/socket.io/bar", "/socket.io/?EIO=4"]) {
      assert.isTrue(isAllowedTarget(target), target)
    }
    for (
      const target of [
        "/",
        "/_ws",
        "/_wsx/",
        "/ws/",
        "/_WS/",
        "/x/_ws/",
        "/socket.io",
        "/Socket.IO/",
        "/%5Fws/",
        "/_ws/../admin",
        "/_ws/./x",
        "/_ws/%2e%2e/admin",
        "/_ws/.%2E",
        "*",
        "",
        "localhost:3000",
        "_ws/"
      ]
    ) {
      assert.isFalse(isAllowedTarget(target), target)
    }
  })

  it("judges absolute-form targets by their path", () => {
    assert.isTrue(isAllowedTarget("http://example.com/_ws/x?y=1"))
    assert.isTrue(isAllowedTarget("ws://example.com:80/socket.io/"))
    assert.isFalse(isAllowedTarget("http://example.com"))
    assert.isFalse(isAllowedTarget("http://example.com/_ws"))
    assert.strictEqual(requestPath("http://example.com?x"), "/")
  })

  it.prop(
    "an allowed prefix followed by ordinary segments is allowed, with any query",
    [prefix, tail, query],
    ([p, t, q]) => {
      assert.isTrue(isAllowedTarget(p + t + (q ?? "")))
      assert.strictEqual(requestPath(p + t + (q ?? "")), p + t)
    }
  )

  it.prop("a path that does not start with an allowed prefix is refused", [fc.string({ maxLength: 30 })], ([s]) => {
    const path = "/" + s
    const startsAllowed = allowedPrefixes.some((p) => path.startsWith(p))
    if (!startsAllowed) assert.isFalse(isAllowedPath(path), path)
  })

  it.prop("changing the case of an allowed prefix refuses it", [prefix, tail], ([p, t]) => {
    const upper = p.toUpperCase()
    assert.isFalse(isAllowedPath(upper + t))
  })

  it.prop(
    "a dot segment anywhere after the prefix is refused",
    [prefix, tail, fc.constantFrom(".", "..", "%2e", "%2E%2e", ".%2E"), tail],
    ([p, before, dots, after]) => {
      const path = p + (before === "" ? "" : before + "/") + dots + (after === "" ? "" : "/" + after)
      assert.isFalse(isAllowedPath(path), path)
    }
  )

  it.prop(
    "the query never changes the verdict",
    [fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })],
    ([p, q]) => {
      const path = "/" + p.replace(/[?#]/g, "")
      assert.strictEqual(isAllowedTarget(path + "?" + q), isAllowedTarget(path))
    }
  )
})
