/**
 * Integers as Server-Sent Events, for `curl -N` and the browser's `EventSource`: a GET on a
 * `/_ws/` path that accepts `text/event-stream` gets a stream instead of the 400 a plain GET
 * gets. A stream is one more member of the fan-out, with its own audience (each integer encoded
 * once per tick as an event), resumed from `Last-Event-ID` or `?since=`, counted toward
 * `MAX_CONNECTIONS`, shed as a slow consumer, logged and counted as protocol `sse`, and ended
 * at shutdown (`EventSource` then reconnects by itself after the `retry` hint).
 */
import { Context, Duration, Effect, Layer, Schedule } from "effect"
import { EventEmitter } from "node:events"
import type { IncomingMessage, ServerResponse } from "node:http"
import { WebSocket } from "ws"
import { ServerConfig } from "../Config.js"
import { type Audience, SocketRegistry } from "../fanout/SocketRegistry.js"
import { IntegerForge } from "../forge/IntegerForge.js"
import { Lifecycle } from "../http/Lifecycle.js"
import { RequestHandoff } from "../http/RequestHandoff.js"
import { ConnectionLog } from "../ops/ConnectionLog.js"
import { closeBy } from "../ops/ServerCloses.js"
import { closeCodes, serviceRestart } from "../wire/CloseCodes.js"
import { integerEvent, keepAliveComment, streamPreamble, wantsEventStream } from "../wire/EventStream.js"
import { refusal } from "../wire/Handshake.js"
import { originHeaders, sequenceHeader } from "../wire/HttpResponse.js"
import { isAllowedTarget, requestPath } from "../wire/RequestTarget.js"
import { admitStream } from "./Admission.js"
import { clientAddress } from "./ClientAddress.js"
import { MaxConnections } from "./ConnectionLimit.js"
import { OpenSockets } from "./OpenSockets.js"

/** How long `EventSource` waits before it reconnects, as the stream's first line tells it. */
export const retryMs = 1000

/** How often a quiet stream gets a comment, so that idle proxies (often 30–60 s) keep it open. */
export const keepAliveMs = 15_000

const streamAudience: Audience = { encode: integerEvent, selfDelimiting: true }

/**
 * A response that streams events, seen by the fan-out, the drain and the log as a connection like
 * a WebSocket: open while the response is, its unsent bytes its `bufferedAmount`, closed with a
 * code (the server's reason, or 1001 when the client went away).
 */
class EventStreamConnection extends EventEmitter {
  private closeCode: number = closeCodes.goingAway
  constructor(private readonly response: ServerResponse) {
    super()
    response.on("close", () => this.emit("close", this.closeCode))
  }
  get readyState(): number {
    return this.response.writableEnded || this.response.destroyed ? WebSocket.CLOSED : WebSocket.OPEN
  }
  get bufferedAmount(): number {
    return this.response.writableLength
  }
  send(data: Buffer | string): void {
    this.response.write(data)
  }
  close(code: number): void {
    this.closeCode = code
    this.response.end()
  }
  terminate(): void {
    this.closeCode = closeCodes.abnormal
    this.response.destroy()
  }
}

/**
 * The answer to a stream asked for while the server drains: a stream that ends at once, on a
 * connection that closes. `EventSource` gives up for good on any status but 200 (a 503 would end
 * a browser's stream forever); an ended stream it reopens after `retry`, on a new connection,
 * which reaches another instance or, once this one has gone, its successor.
 */
const comeBackLater = (response: ServerResponse) => {
  response.writeHead(200, {
    ...originHeaders,
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "close"
  })
  response.end(streamPreamble(retryMs))
}

const claims = (request: IncomingMessage): boolean =>
  request.method === "GET" && wantsEventStream(request.headers.accept) &&
  (requestPath(request.url ?? "")?.startsWith("/_ws/") ?? false) && isAllowedTarget(request.url ?? "")

export class EventStreams extends Context.Tag("IntegerForge/EventStreams")<EventStreams, {
  /** How many streams are open: they count toward `MAX_CONNECTIONS` with the WebSockets. */
  readonly size: () => number
}>() {}

const make = Effect.gen(function*() {
  const registry = yield* SocketRegistry
  const lifecycle = yield* Lifecycle
  const openSockets = yield* OpenSockets
  const connectionLog = yield* ConnectionLog
  const config = yield* ServerConfig
  const { sequence } = yield* IntegerForge
  const maxConnections = yield* MaxConnections
  const streams = new Set<EventStreamConnection>()
  const policy = { allowedOrigins: config.allowedOrigins }

  const take = (request: IncomingMessage, response: ServerResponse) => {
    const target = request.url ?? ""
    const path = requestPath(target) ?? ""
    const remote = clientAddress(
      request.socket.remoteAddress,
      request.headers["x-forwarded-for"],
      config.trustProxyHops
    )
    const admission = admitStream({ target, headers: request.headers }, policy, {
      draining: lifecycle.phase() === "draining",
      openSockets: openSockets.size + streams.size,
      maxConnections
    })
    if (admission._tag === "Refuse") {
      connectionLog.refused(admission, path, remote)
      if (admission.key === "draining") return comeBackLater(response)
      const { body, contentType, headers, status } = refusal(admission)
      response.writeHead(status, {
        ...originHeaders,
        ...headers,
        "content-type": contentType ?? "text/plain; charset=utf-8",
        connection: "close"
      })
      return void response.end(body)
    }
    response.writeHead(200, {
      ...originHeaders,
      ...(sequence === undefined ? {} : { [sequenceHeader]: sequence }),
      ...(admission.corsOrigin === undefined
        ? {}
        : { "access-control-allow-origin": admission.corsOrigin, vary: "origin" }),
      "content-type": "text/event-stream; charset=utf-8",
      // Proxies must pass each event on as it comes, not store or compress the stream.
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no"
    })
    request.socket.setNoDelay(true)
    response.write(streamPreamble(retryMs))
    const stream = new EventStreamConnection(response)
    streams.add(stream)
    connectionLog.opened(stream, { path, remote, protocol: "sse" })
    stream.on("close", () => {
      streams.delete(stream)
      registry.leave(stream)
    })
    registry.join(stream, streamAudience, admission.since)
  }

  yield* Effect.forkScoped(Effect.schedule(
    Effect.sync(() => {
      for (const stream of streams) stream.send(keepAliveComment)
    }),
    Schedule.spaced(Duration.millis(keepAliveMs))
  ))
  // At shutdown, after the WebSockets have been let go: every stream ends cleanly.
  yield* Effect.addFinalizer(() =>
    Effect.sync(() => {
      for (const stream of streams) closeBy(stream, "shutdown", serviceRestart)
    })
  )
  return { claims, take, size: () => streams.size }
})

/** The event streams, and the handoff through which the HTTP side gives them their requests. */
export const layer = Layer.scopedContext(
  Effect.map(
    make,
    ({ claims, size, take }) => Context.make(EventStreams, { size }).pipe(Context.add(RequestHandoff, { claims, take }))
  )
)
