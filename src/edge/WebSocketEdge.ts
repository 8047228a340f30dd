/**
 * Where HTTP becomes WebSocket: the Node server's `upgrade` event, decided by `admit`, completed by
 * the bridge, and every refusal (ours and ws's) answered with a real HTTP response.
 */
import { Cause, Effect, Layer } from "effect"
import type { IncomingMessage } from "node:http"
import type { Duplex } from "node:stream"
import { ServerConfig } from "../Config.js"
import { Connections } from "../connection/Connections.js"
import { answerAndClose, NodeServer } from "../http/NodeServer.js"
import { handshakeRefused, type Refusal, refusal } from "../wire/Handshake.js"
import { requestPath } from "../wire/RequestTarget.js"
import { admit } from "./Admission.js"
import { remoteOf } from "./ClientAddress.js"
import { makeBridge } from "./WebSocketBridge.js"

const ignore = () => {}

// The upgrade listener stays until the Node server itself closes: an upgrade that arrives at any
// moment of the drain gets a 503, never a reset.
export const layer = Layer.effectDiscard(Effect.gen(function*() {
  const server = yield* NodeServer
  const config = yield* ServerConfig
  const connections = yield* Connections
  const policy = { allowedOrigins: config.allowedOrigins }

  const pathOf = (request: IncomingMessage) => requestPath(request.url ?? "") ?? ""
  const refuse = (request: IncomingMessage, socket: Duplex, verdict: Refusal) => {
    connections.refused(verdict, pathOf(request), remoteOf(request, config.trustProxyHops))
    answerAndClose(socket, refusal(verdict))
  }

  const bridge = yield* makeBridge((error, socket, request) => refuse(request, socket, handshakeRefused(error.message)))

  const admissionOf = ({ headers, httpVersion, url = "" }: IncomingMessage) =>
    admit({ target: url, httpVersion, headers }, policy, connections.capacity())

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // First, before anything can fail: a reset during the handshake must not crash the process.
    socket.on("error", ignore)
    try {
      const admission = admissionOf(request)
      if (admission._tag === "Refuse") return refuse(request, socket, admission)
      bridge.upgrade(request, socket, head, {
        path: pathOf(request),
        remote: remoteOf(request, config.trustProxyHops),
        socketIo: admission.dialect._tag === "SocketIo",
        since: admission.since,
        asksSequenceName: admission.asksSequenceName
      })
    } catch (error) {
      // A bug here must cost one connection, never the process and its other clients.
      socket.destroy()
      connections.run(Effect.logError("Upgrade handling failed; connection dropped", Cause.die(error)))
    }
  }

  server.on("upgrade", onUpgrade)
}))
