import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { admit, admitStream, atCapacity, draining, invalidSince } from "../../src/edge/Admission.js"
import { upgradeRequestTo } from "../support/UpgradeRequests.js"

const request = upgradeRequestTo

const target = fc.oneof(
  fc.constantFrom("/_ws/", "/_ws/x", "/socket.io/", "/socket.io/?EIO=4&transport=websocket", "/nope", "/"),
  fc.tuple(fc.constantFrom("/_ws/?since=", "/socket.io/?EIO=4&transport=websocket&since="), fc.string()).map(
    ([p, s]) => p + encodeURIComponent(s)
  ),
  fc.tuple(fc.constantFrom("/_ws/?since="), fc.nat()).map(([p, n]) => p + n)
)
const state = fc.record({
  draining: fc.boolean(),
  open: fc.nat(20),
  maxConnections: fc.integer({ min: 1, max: 20 })
})

describe("Admission", () => {
  it.prop("while draining every request is refused with 503, whatever it is", [target, state], ([t, s]) => {
    assert.deepStrictEqual(admit(request(t), {}, { ...s, draining: true }), draining)
  })

  it.prop("a full server refuses only what it would otherwise accept", [target, state], ([t, s]) => {
    const open = admit(request(t), {}, { ...s, draining: false, open: 0 })
    const full = admit(request(t), {}, { ...s, draining: false, open: s.maxConnections })
    if (open._tag === "Accept") assert.deepStrictEqual(full, atCapacity)
    else assert.deepStrictEqual(full, open)
  })

  it.prop(
    "an accepted request carries the since and the sequence it asked for",
    [fc.nat(), fc.option(fc.stringMatching(/^[A-Za-z0-9_-]{0,64}$/), { nil: undefined }), state],
    ([n, sequence, s]) => {
      const query = `since=${n}${sequence === undefined ? "" : `&sequence=${sequence}`}`
      const admission = admit(request(`/_ws/?${query}`), {}, { ...s, draining: false, open: 0 })
      assert.deepStrictEqual(admission, {
        _tag: "Accept",
        dialect: { _tag: "Plain" },
        since: { after: n, sequence: sequence === "" ? undefined : sequence },
        asksSequenceName: sequence !== undefined
      })
    }
  )

  it("refuses a since that is not one whole number, and a Socket.IO request that would poll", () => {
    const roomy = { draining: false, open: 0, maxConnections: 10 }
    assert.deepStrictEqual(admit(request("/_ws/?since=-1"), {}, roomy), invalidSince)
    assert.deepStrictEqual(admit(request("/_ws/?since=1&since=2"), {}, roomy), invalidSince)
    assert.deepStrictEqual(admit(request("/_ws/?since=1&sequence=a.b"), {}, roomy), invalidSince)
    assert.deepStrictEqual(admit(request("/_ws/?sequence=a&sequence=b"), {}, roomy), invalidSince)
    const polling = admit(request("/socket.io/?EIO=4&transport=polling"), {}, roomy)
    assert.isTrue(polling._tag === "Refuse" && polling.key === "engine.io" && polling.status === 400)
  })

  it.prop(
    "upgrades and streams follow one origin rule: refused by both or by neither",
    [
      fc.option(fc.constantFrom("https://good.example", "https://GOOD.example ", "http://127.0.0.1:3000", "null", "x")),
      fc.constantFrom("127.0.0.1:3000", "good.example", "GOOD.example:443"),
      fc.option(fc.constant(["https://good.example"]), { nil: undefined })
    ],
    ([origin, host, allowedOrigins]) => {
      const headers = origin === null ? { host } : { host, origin }
      const roomy = { draining: false, open: 0, maxConnections: 10 }
      const upgrade = admit(request("/_ws/", headers), { allowedOrigins }, roomy)
      const stream = admitStream({ target: "/_ws/", headers }, { allowedOrigins }, roomy)
      assert.strictEqual(upgrade._tag, stream._tag, JSON.stringify(headers))
      // A CORS header names the page as it sent its origin, and only a page from elsewhere.
      if (stream._tag === "Accept" && stream.corsOrigin !== undefined) {
        assert.strictEqual(stream.corsOrigin, origin?.trim())
        assert.notStrictEqual(origin?.trim().toLowerCase().replace(/^https?:\/\//, ""), host.toLowerCase())
      }
    }
  )
})
