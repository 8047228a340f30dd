/**
 * Integers as Server-Sent Events, for `curl -N` and the browser's `EventSource`: a GET on a
 * `/_ws/` path that accepts `text/event-stream` gets a stream instead of the 400 a plain GET
 * gets. The route only decides (`admitStream`), answers, and hands the response over to
 * `Connections` as a connection of kind `sse`: one more member of the fan-out, with its own
 * encoding (each integer encoded once per tick as an event), resumed from `Last-Event-ID` or
 * `?since=`, counted toward `MAX_CONNECTIONS`, kept alive, shed as a slow consumer, logged, and
 * ended by the drain at shutdown (`EventSource` then reconnects by itself after the `retry` hint).
 */
import { Effect, Layer } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"
import { ServerConfig } from "../Config.js"
import { Connection, type Transport } from "../connection/Connection.js"
import { Connections } from "../connection/Connections.js"
import { IntegerForge, sequenceNameOf } from "../forge/IntegerForge.js"
import { RequestHandoff } from "../http/RequestHandoff.js"
import { closeCodes } from "../wire/CloseCodes.js"
import * as EventStream from "../wire/EventStream.js"
import { refusal } from "../wire/Handshake.js"
import { originHeaders, sequenceHeader } from "../wire/HttpResponse.js"
import { isAllowedTarget, requestPath } from "../wire/RequestTarget.js"
import { admitStream } from "./Admission.js"
import { clientAddress } from "./ClientAddress.js"

// A stream is open while its response is, and its unsent bytes are the response's. It closes by
// ending the response (its client reconnects after the `retry` hint), and is cut off by destroying it.
const eventStreamTransport: Transport<ServerResponse> = {
  write: (response, bytes) => void response.write(bytes),
  bufferedAmount: (response) => response.writableLength,
  isOpen: (response) => !response.writableEnded && !response.destroyed,
  close: (response) => void response.end(),
  terminate: (response) => void response.destroy(),
  keepAlive: (response) => void response.write(EventStream.keepAliveComment)
}

/**
 * The answer to a stream asked for while the server drains: a stream that ends at once, on a
 * connection that closes. `EventSource` gives up for good on any status but 200 (a 503 would end
 * a browser's stream forever); an ended stream it reopens after `retry`, on a new connection,
 * which reaches another instance or, once this one has gone, its successor.
 */
const comeBackLater = (response: ServerResponse) => {
  response.writeHead(200, { ...originHeaders, ...EventStream.streamHeaders, connection: "close" })
  response.end(EventStream.streamPreamble(EventStream.retryMs))
}

const claims = (request: IncomingMessage): boolean =>
  request.method === "GET" && EventStream.wantsEventStream(request.headers.accept) &&
  (requestPath(request.url ?? "")?.startsWith("/_ws/") ?? false) && isAllowedTarget(request.url ?? "")

const make = Effect.gen(function*() {
  const connections = yield* Connections
  const config = yield* ServerConfig
  const forge = yield* IntegerForge
  const { sequence } = forge
  const encoding = EventStream.eventStreamEncoding(sequenceNameOf(forge))
  const policy = { allowedOrigins: config.allowedOrigins }

  const take = (request: IncomingMessage, response: ServerResponse) => {
    const target = request.url ?? ""
    const path = requestPath(target) ?? ""
    const remote = clientAddress(
      request.socket.remoteAddress,
      request.headers["x-forwarded-for"],
      config.trustProxyHops
    )
    const admission = admitStream({ target, headers: request.headers }, policy, connections.capacity())
    if (admission._tag === "Refuse") {
      connections.refused(admission, path, remote)
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
      ...EventStream.streamHeaders,
      // nginx buffers a response unless told not to.
      "x-accel-buffering": "no"
    })
    request.socket.setNoDelay(true)
    response.write(EventStream.streamPreamble(EventStream.retryMs))
    const stream = new Connection("sse", path, remote, response, eventStreamTransport)
    connections.accept(stream)
    // A response's close says no code: the server's, or 1001 when the client went away.
    response.on("close", () => connections.release(stream, stream.sentCode ?? closeCodes.goingAway))
    connections.join(stream, encoding, admission.since)
  }

  return { claims, take }
})

/** The event streams' route: the handoff through which the HTTP side gives them their requests. */
export const layer = Layer.effect(RequestHandoff, make)
