import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, FastCheck as fc, Redacted } from "effect"
import { RedisConfig } from "../../src/Config.js"
import {
  describeEndpoint,
  endpointSecrets,
  formatHostPort,
  parseHostPort,
  parseHostPorts,
  type RedisEndpoint
} from "../../src/forge/RedisEndpoint.js"

/** The Redis settings as the service reads them from these environment variables. */
const readWith = (env: Record<string, string>) =>
  RedisConfig.fromEnv.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))

/** The endpoint with its password in the clear (Redacted values all look alike to deepStrictEqual). */
const plain = (endpoint: RedisEndpoint | undefined) =>
  endpoint?._tag === "HostPort"
    ? { ...endpoint, password: Redacted.value(endpoint.password) }
    : endpoint?._tag === "Sentinel"
    ? {
      ...endpoint,
      password: Redacted.value(endpoint.password),
      sentinelPassword: Redacted.value(endpoint.sentinelPassword)
    }
    : endpoint

const port = fc.integer({ min: 1, max: 65535 })
const host = fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain())

describe("where the shared forge finds Redis", () => {
  it.prop("host:port reads back what it names, IPv6 in brackets", [host, port], ([h, p]) => {
    assert.deepStrictEqual(parseHostPort(formatHostPort(h, p)), { host: h, port: p })
  })

  it.prop("a port outside 1 to 65535, or not plain digits, is refused", [
    host,
    fc.oneof(
      fc.integer({ min: 65536, max: 99_999 }).map(String),
      fc.integer({ min: 65536 }).map(String),
      fc.constant("0"),
      fc.string().filter((s) => !/^\d+$/.test(s))
    )
  ], ([h, p]) => {
    assert.isUndefined(parseHostPort(`${formatHostPort(h, 1).slice(0, -2)}:${p}`))
  })

  it("refuses what is not host:port", () => {
    for (
      const text of [
        "",
        "redis.internal",
        "redis.internal:",
        ":6379",
        "::1:6379",
        "[::1]",
        "[not-ipv6]:6379",
        "[127.0.0.1]:6379",
        "999.0.0.1:6379",
        "10.0.0.5:6379:1",
        "redis internal:6379",
        "redis://10.0.0.5:6379",
        "-redis:6379",
        "10.0.0.5:+6379",
        "10.0.0.5: 6379"
      ]
    ) {
      assert.isUndefined(parseHostPort(text), JSON.stringify(text))
    }
  })

  it.effect("REDIS_URL wins over VIP's variables, which it leaves unread", () =>
    Effect.gen(function*() {
      const config = yield* readWith({ REDIS_URL: "redis://10.0.0.9:6380", VIP_REDIS_PRIMARY: "nonsense" })
      assert.deepStrictEqual(config.endpoint, { _tag: "Url", url: "redis://10.0.0.9:6380" })
    }))

  it.effect("without REDIS_URL (or with it empty), VIP_REDIS_PRIMARY and its password", () =>
    Effect.gen(function*() {
      for (const env of [{}, { REDIS_URL: "" }, { REDIS_URL: "  " }]) {
        const config = yield* readWith({ ...env, VIP_REDIS_PRIMARY: " [::1]:6379 ", VIP_REDIS_PASSWORD: " s3cret" })
        assert.deepStrictEqual(plain(config.endpoint), {
          _tag: "HostPort",
          host: "::1",
          port: 6379,
          password: " s3cret"
        })
        assert.deepStrictEqual(describeEndpoint(config.endpoint!), { redis: "[::1]:6379", from: "VIP_REDIS_PRIMARY" })
        assert.notInclude(`${String(config.endpoint)} ${JSON.stringify(config)}`, "s3cret")
      }
      const noPassword = yield* readWith({ VIP_REDIS_PRIMARY: "10.0.0.5:6379" })
      assert.deepStrictEqual(plain(noPassword.endpoint), {
        _tag: "HostPort",
        host: "10.0.0.5",
        port: 6379,
        password: ""
      })
    }))

  it.effect("neither, or both empty: the in-process forge", () =>
    Effect.gen(function*() {
      for (const env of [{}, { REDIS_URL: "", VIP_REDIS_PRIMARY: "" }, { VIP_REDIS_PASSWORD: "s3cret" }]) {
        assert.isUndefined((yield* readWith(env)).endpoint, JSON.stringify(env))
      }
    }))

  it.prop(
    "a list of sentinels reads back what it names, in order, spaces around the commas or not",
    [
      fc.uniqueArray(fc.tuple(host, port), { minLength: 1, maxLength: 5, selector: ([h, p]) => formatHostPort(h, p) }),
      fc.constantFrom(",", ", ", " , ")
    ],
    ([addresses, comma]) => {
      const text = addresses.map(([h, p]) => formatHostPort(h, p)).join(comma)
      assert.deepStrictEqual(parseHostPorts(text), addresses.map(([h, p]) => ({ host: h, port: p })))
      // The same sentinel twice, or an empty entry, is a mistake in the list.
      assert.isUndefined(parseHostPorts(`${text},${formatHostPort(...addresses[0]!)}`))
      assert.isUndefined(parseHostPorts(`${text},`))
    }
  )

  it.effect("with REDIS_SENTINELS: the primary the sentinels name, with both passwords", () =>
    Effect.gen(function*() {
      const env = {
        REDIS_SENTINELS: " 10.0.0.5:26379, [::1]:26380 ",
        REDIS_SENTINEL_MASTER: " forge ",
        REDIS_SENTINEL_PASSWORD: "s3ntinel",
        VIP_REDIS_PASSWORD: "s3cret",
        // Sentinel wins over VIP's primary, which is then unread.
        VIP_REDIS_PRIMARY: "nonsense"
      }
      const config = yield* readWith(env)
      assert.deepStrictEqual(plain(config.endpoint), {
        _tag: "Sentinel",
        sentinels: [{ host: "10.0.0.5", port: 26379 }, { host: "::1", port: 26380 }],
        master: "forge",
        password: "s3cret",
        sentinelPassword: "s3ntinel"
      })
      assert.deepStrictEqual(describeEndpoint(config.endpoint!), {
        redis: "forge via Sentinel 10.0.0.5:26379,[::1]:26380",
        from: "REDIS_SENTINELS"
      })
      assert.sameMembers([...endpointSecrets(config.endpoint!)], ["s3cret", "s3ntinel"])
      assert.notInclude(`${String(config.endpoint)} ${JSON.stringify(config)}`, "s3")
      // REDIS_URL wins over Sentinel.
      const url = yield* readWith({ ...env, REDIS_URL: "redis://10.0.0.9:6380" })
      assert.deepStrictEqual(url.endpoint, { _tag: "Url", url: "redis://10.0.0.9:6380" })
    }))

  it.effect("bad Sentinel settings are one message naming the variable", () =>
    Effect.gen(function*() {
      const error = (env: Record<string, string>) => Effect.flip(readWith(env)).pipe(Effect.map(String))
      for (const sentinels of ["10.0.0.5", "10.0.0.5:26379,", "10.0.0.5:26379,10.0.0.5:26379", "redis://a:1"]) {
        assert.include(
          yield* error({ REDIS_SENTINELS: sentinels, REDIS_SENTINEL_MASTER: "forge" }),
          "Invalid data at REDIS_SENTINELS: \"Expected one or more host:port",
          sentinels
        )
      }
      for (const master of [{}, { REDIS_SENTINEL_MASTER: " " }, { REDIS_SENTINEL_MASTER: "my master" }]) {
        assert.include(
          yield* error({ REDIS_SENTINELS: "10.0.0.5:26379", ...master }),
          "Invalid data at REDIS_SENTINEL_MASTER: \"Expected the name the sentinels monitor",
          JSON.stringify(master)
        )
      }
    }))

  it.effect("a malformed VIP_REDIS_PRIMARY is one message naming it", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(readWith({ VIP_REDIS_PRIMARY: "10.0.0.5", VIP_REDIS_PASSWORD: "s3cret" }))
      assert.strictEqual(
        String(error),
        "(Invalid data at VIP_REDIS_PRIMARY: \"Expected host:port, such as 10.0.0.5:6379, redis.internal:6379 " +
          "or [::1]:6379, with a port from 1 to 65535\")"
      )
    }))

  it("the log names a URL's endpoint without its credentials", () => {
    assert.deepStrictEqual(describeEndpoint({ _tag: "Url", url: "rediss://user:s3cret@cache.internal:6380/2" }), {
      redis: "rediss://cache.internal:6380/2",
      from: "REDIS_URL"
    })
  })
})
