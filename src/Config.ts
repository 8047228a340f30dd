/**
 * Everything the service reads from its environment, in one place.
 *
 * Each setting is an Effect `Config`, so a bad value fails the start with a `ConfigError` that names
 * the variable; `main.ts` turns that into one line on stderr and a non-zero exit.
 */
import { Config, Context, Layer, Option } from "effect"

const positiveInteger = (name: string, defaultValue: number) =>
  Config.integer(name).pipe(
    Config.validate({ message: "Expected a positive integer", validation: (n) => n > 0 }),
    Config.withDefault(defaultValue)
  )

/** How the integer forge ticks. */
export class ForgeConfig extends Context.Tag("IntegerForge/ForgeConfig")<ForgeConfig, {
  /** Milliseconds between two integers while at least one subscriber exists. */
  readonly intervalMs: number
  /**
   * How many integers the forge's PubSub holds for a subscriber that has not taken them yet. A
   * subscriber that falls this far behind loses the oldest ones (the PubSub slides), so the forge
   * never waits for anyone.
   */
  readonly bufferCapacity: number
}>() {
  static readonly fromEnv = Config.all({
    intervalMs: positiveInteger("FORGE_INTERVAL_MS", 1000),
    bufferCapacity: Config.succeed(1024)
  })

  static readonly layer = Layer.effect(ForgeConfig, ForgeConfig.fromEnv)

  static readonly make = (intervalMs: number, bufferCapacity = 1024) =>
    Layer.succeed(ForgeConfig, { intervalMs, bufferCapacity })
}

/** Where the HTTP server listens and how it lets sockets go. */
export class ServerConfig extends Context.Tag("IntegerForge/ServerConfig")<ServerConfig, {
  /** TCP port; 0 lets the OS pick a free one (the start log says which). */
  readonly port: number
  /** Interface to bind; undefined binds every interface (IPv6 and IPv4 where the OS allows). */
  readonly host: string | undefined
  /** Largest message a client may send; the service reads nothing from clients, so it is small. */
  readonly maxPayloadBytes: number
  /** How long shutdown waits for clients to answer the close handshake before cutting them off. */
  readonly shutdownTimeoutMs: number
}>() {
  static readonly fromEnv = Config.all({
    port: Config.integer("PORT").pipe(
      Config.validate({ message: "Expected a port from 0 to 65535", validation: (n) => n >= 0 && n <= 65535 }),
      Config.withDefault(3000)
    ),
    host: Config.nested(
      Config.string().pipe(
        Config.map((s) => s.trim()),
        Config.validate({ message: "Expected a non-empty host name or address", validation: (s) => s !== "" })
      ),
      "HOST"
    ).pipe(Config.option, Config.map(Option.getOrUndefined)),
    maxPayloadBytes: Config.succeed(4096),
    shutdownTimeoutMs: positiveInteger("SHUTDOWN_TIMEOUT_MS", 5000)
  })

  static readonly layer = Layer.effect(ServerConfig, ServerConfig.fromEnv)

  static readonly make = (overrides: Partial<Context.Tag.Service<ServerConfig>> = {}) =>
    Layer.succeed(ServerConfig, {
      port: 0,
      host: "127.0.0.1",
      maxPayloadBytes: 4096,
      shutdownTimeoutMs: 2000,
      ...overrides
    })
}
