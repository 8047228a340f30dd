/**
 * Integers as Server-Sent Events: a GET on a `/_ws/` path that accepts `text/event-stream` gets a
 * stream instead of a 400. The route decides (`admitStream`), answers, and hands the response to
 * `Connections` as a connection of kind `sse`, which from then on is like any other.
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
import { remoteOf } from "./ClientAddress.js"

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

// While draining, a stream that ends at once: `EventSource` gives up for good on any status but
// 200, while an ended stream it reopens after `retry`, on a new connection (to another instance).
const comeBackLater = (response: ServerResponse) => {
  response.writeHead(200, { ...originHeaders, ...EventStream.streamHeaders, connection: "close" })
  response.end(EventStream.streamPreamble)
}

const claims = (request: IncomingMessage): boolean =>
  request.method === "GET" && EventStream.wantsEventStream(request.headers.accept) &&
  (requestPath(request.url ?? "")?.startsWith("/_ws/") ?? false) && isAllowedTarget(request.url ?? "")

const make = Effect.gen(function*() {
  const connections = yield* Connections
  const { allowedOrigins, trustProxyHops } = yield* ServerConfig
  const policy = { allowedOrigins }
  const forge = yield* IntegerForge
  // Every client of an instance hears one name, but a restart's (Resume.ts).
  const encoding = EventStream.eventStreamEncoding(sequenceNameOf(forge))
  const encodingOf = (sequence: string) =>
    sequence === sequenceNameOf(forge) ? encoding : EventStream.eventStreamEncoding(sequence)

  const take = (request: IncomingMessage, response: ServerResponse) => {
    const target = request.url ?? ""
    const path = requestPath(target) ?? ""
    const remote = remoteOf(request, trustProxyHops)
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
      ...(forge.sequence === undefined ? {} : { [sequenceHeader]: forge.sequence }),
      ...(admission.corsOrigin === undefined
        ? {}
        : { "access-control-allow-origin": admission.corsOrigin, vary: "origin" }),
      ...EventStream.streamHeaders,
      // nginx buffers a response unless told not to.
      "x-accel-buffering": "no"
    })
    request.socket.setNoDelay(true)
    response.write(EventStream.streamPreamble)
    const stream = new Connection("sse", path, remote, response, eventStreamTransport)
    connections.accept(stream)
    // A response's close says no code: the server's, or 1001 when the client went away.
    response.on("close", () => connections.release(stream, stream.sentCode ?? closeCodes.goingAway))
    connections.join(stream, encodingOf, admission.since)
  }

  return { claims, take }
})

/** The event streams' route, as the HTTP side's handoff. */
export const layer = Layer.effect(RequestHandoff, make)
