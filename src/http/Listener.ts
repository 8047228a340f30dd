/**
 * Makes the Node server listen, once every handler is attached, and says where. Its release is the
 * shutdown (`Shutdown.ts`).
 */
import { Context, Data, Effect, Layer } from "effect"
import type { AddressInfo } from "node:net"
import { ServerConfig } from "../Config.js"
import { NodeServer } from "./NodeServer.js"
import * as Shutdown from "./Shutdown.js"

export class ListenError extends Data.TaggedError("ListenError")<{
  readonly port: number
  readonly host: string | undefined
  readonly cause: Error
}> {
  override get message() {
    return `Cannot listen on ${this.host ?? "all interfaces"} port ${this.port}: ${this.cause.message}`
  }
}

/** Where the server actually listens (the real port when 0 was asked for). */
export class ListeningAddress extends Context.Tag("IntegerForge/ListeningAddress")<ListeningAddress, {
  readonly port: number
  readonly address: string
  /** A host name that reaches the server from this machine, for URLs in logs and tests. */
  readonly localHost: string
}>() {}

const localHostFor = (address: string): string => {
  if (address === "::" || address === "0.0.0.0") return "localhost"
  return address.includes(":") ? `[${address}]` : address
}

export const layer = Layer.scoped(
  ListeningAddress,
  Effect.gen(function*() {
    const server = yield* NodeServer
    const { host, port } = yield* ServerConfig
    const shutdown = yield* Shutdown.make
    const listen = Effect.async<void, ListenError>((resume) => {
      const onError = (cause: Error) => resume(Effect.fail(new ListenError({ port, host, cause })))
      server.once("error", onError)
      server.listen({ port, host }, () => {
        server.off("error", onError)
        resume(Effect.void)
      })
    })
    yield* Effect.acquireRelease(listen, () => shutdown)
    const info = server.address() as AddressInfo
    return { port: info.port, address: info.address, localHost: localHostFor(info.address) }
  })
)
