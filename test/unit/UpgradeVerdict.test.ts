import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import {
  isSameOrigin,
  judgeUpgrade,
  refusal,
  type UpgradeRequest,
  type UpgradeVerdict
} from "../../src/wire/Handshake.js"
import { rawResponse } from "../../src/wire/HttpResponse.js"
import { upgradeRequestTo } from "../support/UpgradeRequests.js"

const key = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((bytes) => Buffer.from(bytes).toString("base64"))
const target = fc.tuple(fc.constantFrom("/_ws/", "/socket.io/"), fc.stringMatching(/^[a-z0-9/_-]{0,10}$/)).map(
  ([p, t]) => p + t.replace(/\/\.{1,2}(?=\/|$)/g, "")
)
const validRequest: fc.Arbitrary<UpgradeRequest> = fc.record({
  target,
  key,
  upgrade: fc.constantFrom("websocket", "WebSocket", "WEBSOCKET"),
  connection: fc.constantFrom("Upgrade", "upgrade", "keep-alive, Upgrade", "Upgrade,keep-alive")
}).map(({ connection, key, target, upgrade }) => ({
  target,
  httpVersion: "1.1",
  headers: {
    host: "localhost",
    upgrade,
    connection,
    "sec-websocket-version": "13",
    "sec-websocket-key": key
  }
}))

const status = (verdict: UpgradeVerdict) => verdict._tag === "Refuse" ? verdict.status : 101

// One way to break an otherwise valid request by a rule of ours, and the status it must then get.
const breakage = fc.constantFrom<[string, (r: UpgradeRequest) => UpgradeRequest, number]>(
  ["path outside the prefixes", (r) => ({ ...r, target: "/nope" + r.target }), 404],
  ["HTTP/1.0", (r) => ({ ...r, httpVersion: "1.0" }), 400],
  ["no Upgrade", (r) => ({ ...r, headers: { ...r.headers, upgrade: undefined } }), 400],
  ["no Connection", (r) => ({ ...r, headers: { ...r.headers, connection: "keep-alive" } }), 400],
  ["version 8", (r) => ({ ...r, headers: { ...r.headers, "sec-websocket-version": "8" } }), 400],
  ["no version", (r) => ({ ...r, headers: { ...r.headers, "sec-websocket-version": undefined } }), 400],
  ["no Host", (r) => ({ ...r, headers: { ...r.headers, host: undefined } }), 400],
  ["bad Host", (r) => ({ ...r, headers: { ...r.headers, host: "a b" } }), 400],
  ["foreign Origin", (r) => ({ ...r, headers: { ...r.headers, origin: "https://evil.example" } }), 403]
)

// What ws checks during the handshake (and refuses through `wsClientError`) is left to it.
const leftToWs = fc.constantFrom<(r: UpgradeRequest) => UpgradeRequest>(
  (r) => ({ ...r, headers: { ...r.headers, upgrade: "h2c" } }),
  (r) => ({ ...r, headers: { ...r.headers, "sec-websocket-key": undefined } }),
  (r) => ({ ...r, headers: { ...r.headers, "sec-websocket-key": "c2hvcnQ=" } }),
  (r) => ({ ...r, headers: { ...r.headers, "sec-websocket-protocol": "a b,,c" } })
)

const policy = { allowedOrigins: ["https://good.example"] }
// Fixed, so that a failure here reproduces as it was seen.
const seeded = { fastCheck: { seed: 6455 } }

describe("UpgradeVerdict", () => {
  it.prop("a valid upgrade on an allowed path is accepted", [validRequest], ([request]) => {
    assert.deepStrictEqual(judgeUpgrade(request, policy), { _tag: "Accept" })
  }, seeded)

  it.prop("each way of breaking a rule of ours gets its documented status", [validRequest, breakage], ([r, b]) => {
    const [what, mutate, expected] = b
    assert.strictEqual(status(judgeUpgrade(mutate(r), policy)), expected, what)
  }, seeded)

  it.prop("leaves ws's own handshake checks to ws", [validRequest, leftToWs], ([r, mutate]) => {
    assert.deepStrictEqual(judgeUpgrade(mutate(r), policy), { _tag: "Accept" })
  }, seeded)

  it("names the supported version when refusing another", () => {
    const verdict = judgeUpgrade({
      target: "/_ws/",
      httpVersion: "1.1",
      headers: { host: "localhost", upgrade: "websocket", connection: "Upgrade", "sec-websocket-version": "8" }
    })
    assert.strictEqual(verdict._tag === "Refuse" && verdict.headers?.["Sec-WebSocket-Version"], "13")
  })

  it.prop(
    "a refusal renders as one complete HTTP response with the origin header",
    [fc.constantFrom(400, 403, 404, 503), fc.string({ maxLength: 80 }).map((s) => s.replace(/[\r\n]/g, " "))],
    ([code, reason]) => {
      const text = rawResponse(refusal({ _tag: "Refuse", key: "test", status: code, reason }))
      const [head, body] = text.split("\r\n\r\n")
      const [statusLine, ...headerLines] = head!.split("\r\n")
      assert.match(statusLine!, new RegExp(`^HTTP/1\\.1 ${code} \\S`))
      const headers = Object.fromEntries(headerLines.map((l) => l.split(": ", 2).map((s) => s.toLowerCase())))
      assert.strictEqual(headers["x-vip-reached-origin"], "true")
      assert.strictEqual(headers["connection"], "close")
      assert.strictEqual(Number(headers["content-length"]), Buffer.byteLength(body!))
      assert.strictEqual(body, reason + "\n")
    }
  )

  // A label that starts "xn--" must be valid Punycode, or the URL parser (and a browser) refuses it.
  const hostName = fc.stringMatching(/^[a-z][a-z0-9-]{0,12}(\.[a-z]{2,5})?$/).filter((n) => !n.startsWith("xn--"))
  const port = fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined })

  it.prop(
    "same origin: a page from the host the request went to, whatever ALLOWED_ORIGINS lists",
    [hostName, port, fc.constantFrom("http", "https")],
    ([name, p, scheme]) => {
      const host = p === undefined ? name : `${name}:${p}`
      const request = upgradeRequestTo("/_ws/", { host, origin: `${scheme}://${host}` })
      assert.strictEqual(judgeUpgrade(request, { allowedOrigins: ["https://elsewhere.example"] })._tag, "Accept")
      const other = { ...request, headers: { ...request.headers, origin: `${scheme}://x${name}` } }
      assert.strictEqual(status(judgeUpgrade(other, { allowedOrigins: ["https://elsewhere.example"] })), 403)
    }
  )

  it("same origin compares host and effective port, not the scheme", () => {
    assert.isTrue(isSameOrigin("https://example.com", "example.com:443"))
    assert.isTrue(isSameOrigin("http://example.com", "EXAMPLE.com:80"))
    assert.isTrue(isSameOrigin("https://example.com:8443", "example.com:8443"))
    assert.isFalse(isSameOrigin("https://example.com", "example.com:8443"))
    assert.isFalse(isSameOrigin("null", "example.com"))
    assert.isFalse(isSameOrigin("https://example.com", undefined))
    assert.isFalse(isSameOrigin("https://example.com.evil.test", "example.com"))
  })
})
