/**
 * Everything the service reads from its environment. A bad value fails the start with a
 * `ConfigError` naming the variable, which `main.ts` prints as one line before exiting non-zero.
 */
import { Config, ConfigError, ConfigProvider, Context, Effect, Either, Layer, Option, Redacted } from "effect"
import { parseHostPort, parseHostPorts, type RedisEndpoint } from "./forge/RedisEndpoint.js"
import { parseWholeNumber } from "./wire/WholeNumber.js"

// Plain decimal digits only: `Config.integer` would read "" as 0 and "0x10" as 16.
const decimal = (name: string, range: { readonly min: number; readonly max: number }, defaultValue: number) =>
  Config.string(name).pipe(
    Config.validate({
      message: `Expected a whole number from ${range.min} to ${range.max}`,
      validation: (s) => {
        const n = parseWholeNumber(s.trim())
        return n !== undefined && n >= range.min && n <= range.max
      }
    }),
    Config.map((s) => Number(s.trim())),
    Config.withDefault(defaultValue)
  )

/** Node's timers take at most 2^31-1 ms; a longer delay silently becomes 1 ms. */
export const maxTimerMs = 2_147_483_647

const milliseconds = (name: string, defaultValue: number) => decimal(name, { min: 1, max: maxTimerMs }, defaultValue)

/** The longest spread of the 1012 closes: half the shutdown timeout, the other half to answer the last. */
export const spreadLimitMs = (shutdownTimeoutMs: number): number => Math.floor(shutdownTimeoutMs / 2)

export interface RebalanceSettings {
  /** How often an instance posts its count and reads the others'; a hand-over round lasts this long. */
  readonly intervalMs: number
  /** How far from its share (the mean) an instance may be before those above it hand over. */
  readonly tolerancePercent: number
  /** Most connections an instance hands over per second; 0: it never does. */
  readonly maxPerSecond: number
  /** How long the set of instances must stay the same (no deploy under way) before anyone hands over. */
  readonly settleMs: number
}

/** How the integer forge ticks. */
export class ForgeConfig extends Context.Tag("IntegerForge/ForgeConfig")<ForgeConfig, {
  /** Milliseconds between two integers while at least one subscriber exists. */
  readonly intervalMs: number
  /** Integers held for a subscriber that has not taken them; one further behind loses the oldest. */
  readonly bufferCapacity: number
  /** How many of the latest integers a reconnecting client can ask for again (`?since=N`). */
  readonly replayCapacity: number
}>() {
  static readonly layer = Layer.effect(
    ForgeConfig,
    Config.all({
      intervalMs: milliseconds("FORGE_INTERVAL_MS", 1000),
      bufferCapacity: Config.succeed(1024),
      replayCapacity: decimal("REPLAY_CAPACITY", { min: 0, max: 1_000_000 }, 1000)
    })
  )

  /** Fixed settings, for tests: the interval, and the defaults for the rest unless given. */
  static readonly layerTest = (intervalMs: number, bufferCapacity = 1024, replayCapacity = 1000) =>
    Layer.succeed(ForgeConfig, { intervalMs, bufferCapacity, replayCapacity })
}

/** Where the HTTP server listens, whom it lets in, and how it lets sockets go. */
export class ServerConfig extends Context.Tag("IntegerForge/ServerConfig")<ServerConfig, {
  /** TCP port; 0 lets the OS pick a free one (the start log says which). */
  readonly port: number
  /** Interface to bind; undefined binds every interface (IPv6 and IPv4 where the OS allows). */
  readonly host: string | undefined
  /** Largest message a client may send; the service reads nothing from clients, so it is small. */
  readonly maxPayloadBytes: number
  /** How long shutdown keeps serving with its health check at 503, for proxies to take it out. */
  readonly shutdownNoticeMs: number
  /** How long shutdown waits for clients to answer the close handshake before cutting them off. */
  readonly shutdownTimeoutMs: number
  /** Over how long shutdown spreads its 1012 closes, so that clients do not come back as one wave. */
  readonly shutdownSpreadMs: number
  /** How often every plain WebSocket is pinged; one that has not answered the previous ping is dropped. */
  readonly heartbeatIntervalMs: number
  /** How long a connection may take to send its request head (the handshake) before it is closed. */
  readonly handshakeTimeoutMs: number
  /** Unsent bytes a socket may hold before it counts as a slow consumer and is closed (1013). */
  readonly maxBufferedBytes: number
  /** Most WebSockets open at once, before the file-descriptor ceiling is applied. */
  readonly maxConnections: number
  /** When set, the only `Origin` values a browser may upgrade from. */
  readonly allowedOrigins: ReadonlyArray<string> | undefined
  /** How often Socket.IO clients are sent an Engine.IO ping (Socket.IO's default: 25 s). */
  readonly socketIoPingIntervalMs: number
  /** How long a Socket.IO client has to answer a ping (Socket.IO's default: 20 s). */
  readonly socketIoPingTimeoutMs: number
  /** How many proxies in front of us append to `X-Forwarded-For` and are trusted (0: ignore it). */
  readonly trustProxyHops: number
  /** With the shared forge: how the instances even out their connections (`Rebalancer.ts`). */
  readonly rebalance: RebalanceSettings
}>() {
  static readonly fromEnv = Config.all({
    port: decimal("PORT", { min: 0, max: 65535 }, 3000),
    host: Config.string("HOST").pipe(
      Config.validate({ message: "Expected a non-empty host name or address", validation: (s) => s.trim() !== "" }),
      Config.map((s) => s.trim()),
      Config.option,
      Config.map(Option.getOrUndefined)
    ),
    maxPayloadBytes: decimal("MAX_PAYLOAD_BYTES", { min: 125, max: 1024 * 1024 }, 4096),
    shutdownNoticeMs: decimal("SHUTDOWN_NOTICE_MS", { min: 0, max: maxTimerMs }, 2000),
    shutdownTimeoutMs: milliseconds("SHUTDOWN_TIMEOUT_MS", 5000),
    shutdownSpreadMs: decimal("SHUTDOWN_SPREAD_MS", { min: 0, max: maxTimerMs }, 1000),
    heartbeatIntervalMs: milliseconds("HEARTBEAT_INTERVAL_MS", 30_000),
    handshakeTimeoutMs: milliseconds("HANDSHAKE_TIMEOUT_MS", 10_000),
    maxBufferedBytes: decimal("MAX_BUFFERED_BYTES", { min: 1024, max: 1024 ** 3 }, 16 * 1024),
    maxConnections: decimal("MAX_CONNECTIONS", { min: 1, max: 10_000_000 }, 10_000),
    allowedOrigins: Config.nested(
      Config.string().pipe(
        Config.map((s) => s.split(",").map((o) => o.trim()).filter((o) => o !== "")),
        Config.validate({
          message: "Expected a comma-separated list of origins such as https://example.com",
          validation: (origins) =>
            origins.length > 0 && origins.every((o) => /^[a-z][a-z0-9+.-]*:\/\/[^/\s]+$/i.test(o))
        })
      ),
      "ALLOWED_ORIGINS"
    ).pipe(Config.option, Config.map(Option.getOrUndefined)),
    socketIoPingIntervalMs: milliseconds("SOCKETIO_PING_INTERVAL_MS", 25_000),
    socketIoPingTimeoutMs: milliseconds("SOCKETIO_PING_TIMEOUT_MS", 20_000),
    trustProxyHops: decimal("TRUST_PROXY_HOPS", { min: 0, max: 16 }, 0),
    rebalance: Config.all({
      intervalMs: decimal("REBALANCE_INTERVAL_MS", { min: 100, max: 600_000 }, 2000),
      tolerancePercent: decimal("REBALANCE_TOLERANCE_PERCENT", { min: 1, max: 100 }, 10),
      maxPerSecond: decimal("REBALANCE_MAX_PER_SECOND", { min: 0, max: 100_000 }, 250),
      settleMs: decimal("REBALANCE_SETTLE_MS", { min: 0, max: maxTimerMs }, 5000)
    })
  })

  /** The settings from the environment; a warning at start when the spread will be capped. */
  static readonly layer = Layer.effect(
    ServerConfig,
    Effect.gen(function*() {
      const config = yield* ServerConfig.fromEnv
      const limit = spreadLimitMs(config.shutdownTimeoutMs)
      if (config.shutdownSpreadMs > limit) {
        yield* Effect.logWarning(
          `SHUTDOWN_SPREAD_MS=${config.shutdownSpreadMs} is above half of ` +
            `SHUTDOWN_TIMEOUT_MS=${config.shutdownTimeoutMs}; using ${limit}, so that the last closes still have ` +
            "time to be answered"
        )
      }
      return config
    })
  )

  /** The defaults, but port 0 on 127.0.0.1, no notice, no spread and a 2 s timeout; then `overrides`. */
  static readonly layerTest = (overrides: Partial<Context.Tag.Service<ServerConfig>> = {}) =>
    Layer.effect(
      ServerConfig,
      ServerConfig.fromEnv.pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map())),
        Effect.orDie,
        Effect.map((defaults) => ({
          ...defaults,
          port: 0,
          host: "127.0.0.1",
          shutdownNoticeMs: 0,
          shutdownTimeoutMs: 2000,
          shutdownSpreadMs: 0,
          ...overrides
        }))
      )
    )
}

const hostPortMessage = "Expected host:port, such as 10.0.0.5:6379, redis.internal:6379 or [::1]:6379, " +
  "with a port from 1 to 65535"

const sentinelsMessage = "Expected one or more host:port, separated by commas, such as " +
  "10.0.0.5:26379,10.0.0.6:26379, each with a port from 1 to 65535 and none twice"

/**
 * `REDIS_URL` wins; then Sentinel (`REDIS_SENTINELS`), then VIP's variables, each unread once one
 * before it is set. An empty value is the same as an unset one. `VIP_REDIS_PASSWORD` is the
 * password of the Redis that VIP's primary or the sentinels name.
 */
const redisEndpoint = Config.all({
  url: Config.string("REDIS_URL").pipe(
    Config.validate({
      message: "Expected a redis:// or rediss:// URL, or nothing",
      validation: (s) => /^\s*(rediss?:\/\/\S+)?\s*$/.test(s)
    }),
    Config.map((s) => s.trim()),
    Config.withDefault("")
  ),
  sentinels: Config.string("REDIS_SENTINELS").pipe(Config.withDefault("")),
  master: Config.string("REDIS_SENTINEL_MASTER").pipe(Config.withDefault("")),
  sentinelPassword: Config.redacted("REDIS_SENTINEL_PASSWORD").pipe(Config.withDefault(Redacted.make(""))),
  primary: Config.string("VIP_REDIS_PRIMARY").pipe(Config.withDefault("")),
  // Taken as it is: a password may begin or end with a space.
  password: Config.redacted("VIP_REDIS_PASSWORD").pipe(Config.withDefault(Redacted.make("")))
}).pipe(
  Config.mapOrFail((settings): Either.Either<RedisEndpoint | undefined, ConfigError.ConfigError> => {
    const { master, password, primary, sentinelPassword, sentinels, url } = settings
    if (url !== "") return Either.right({ _tag: "Url", url })
    if (sentinels.trim() !== "") {
      const parsed = parseHostPorts(sentinels.trim())
      if (parsed === undefined) return Either.left(ConfigError.InvalidData(["REDIS_SENTINELS"], sentinelsMessage))
      if (!/^[\w.:-]{1,64}$/.test(master.trim())) {
        return Either.left(ConfigError.InvalidData(
          ["REDIS_SENTINEL_MASTER"],
          "Expected the name the sentinels monitor the primary under (letters, digits, - _ : .), " +
            "required with REDIS_SENTINELS"
        ))
      }
      return Either.right({ _tag: "Sentinel", sentinels: parsed, master: master.trim(), password, sentinelPassword })
    }
    if (primary.trim() === "") return Either.right(undefined)
    const parsed = parseHostPort(primary.trim())
    return parsed === undefined
      ? Either.left(ConfigError.InvalidData(["VIP_REDIS_PRIMARY"], hostPortMessage))
      : Either.right({ _tag: "HostPort", ...parsed, password })
  })
)

/**
 * The Redis of the shared forge (docs/scaling.md); no endpoint: the in-process forge. Not a
 * service: `forge/ForgeChoice.ts` reads it once, to choose the forge.
 */
export const RedisConfig = {
  fromEnv: Config.all({
    endpoint: redisEndpoint,
    /** How long a leader's lease lasts without renewal: the longest pause a leader's crash causes. */
    leaseMs: decimal("FORGE_LEASE_MS", { min: 100, max: 600_000 }, 3000),
    /** Prefix of every key and channel, so that several deployments can share one Redis. */
    prefix: Config.string("REDIS_PREFIX").pipe(
      Config.validate({ message: "Expected letters, digits, - _ : .", validation: (s) => /^[\w:.-]{1,64}$/.test(s) }),
      Config.withDefault("integer-forge")
    )
  })
}
