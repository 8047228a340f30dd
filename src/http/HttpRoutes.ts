/**
 * The plain HTTP side of the service: the health check, metrics, a page at `/`, a 400 for plain
 * requests on WebSocket paths, 404 for the rest; every response carries our origin headers.
 */
// Each module by its own path: the packages' indexes load clients and RPC the service never runs.
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, Layer } from "effect"
import { ForgeConfig } from "../Config.js"
import { Lifecycle } from "../ops/Lifecycle.js"
import { Metrics } from "../ops/Metrics.js"
import { dialectOf } from "../socketio/SocketIoProtocol.js"
import { hostProblem, judgeUpgrade } from "../wire/Handshake.js"
import { originHeaders } from "../wire/HttpResponse.js"
import { allowedPrefixes } from "../wire/RequestTarget.js"
import { demoPage } from "./DemoPage.js"
import { NodeServer } from "./NodeServer.js"
import { RequestHandoff } from "./RequestHandoff.js"
import { tryItCommands } from "./TryIt.js"

const text = (body: string, options?: HttpServerResponse.Options.WithContentType) =>
  HttpServerResponse.text(body, { contentType: "text/plain; charset=utf-8", ...options })

// The platform probes `/cache-healthcheck?`. It reads one flag, so it answers at once even when the
// forge is busy, and turns 503 as soon as shutdown begins, before the sockets are let go.
const healthCheck = Effect.map(Lifecycle, (lifecycle) =>
  lifecycle.phase() === "serving"
    ? text("ok\n")
    : text("draining\n", { status: 503 }))

// Only characters of a host name or address, so a hostile Host header cannot inject into the page.
const hostForExample = (host: string | undefined): string =>
  host !== undefined && /^[A-Za-z0-9.:[\]-]{1,255}$/.test(host) ? host : "localhost:3000"

const pace = (intervalMs: number) => intervalMs === 1000 ? "one a second" : `one every ${intervalMs} ms`

const homePage = (host: string, intervalMs: number) =>
  [
    "Integer Forge: integers as a service, over WebSockets.",
    "",
    `WebSocket upgrades are accepted on paths starting with ${allowedPrefixes.join(" or ")}.`,
    `Every connected client receives the same integers, ${pace(intervalMs)}, while anyone is connected.`,
    "",
    "Try it with curl (as Server-Sent Events), wscat (from npm) or websocat:",
    ...tryItCommands(host).map((command) => `  ${command}`),
    ""
  ].join("\n")

// Browsers ask for HTML and get the live demo; curl and friends get the text.
const wantsHtml = (accept: string | undefined) => accept !== undefined && /\btext\/html\b/i.test(accept)

const home = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const host = hostForExample(request.headers["host"])
  const headers = { vary: "accept" }
  if (wantsHtml(request.headers["accept"])) {
    return HttpServerResponse.text(demoPage(host), { contentType: "text/html; charset=utf-8", headers })
  }
  const { intervalMs } = yield* ForgeConfig
  return text(homePage(host, intervalMs), { headers })
})

// A request the router does not know: on a WebSocket path it is a failed upgrade (400 with the
// reason), anywhere else it is simply not found.
const fallback = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  // A Socket.IO client on its default transports starts with a long-polling GET: it gets
  // Engine.IO's own error at once, counted as the refused upgrade it amounts to.
  const dialect = dialectOf(request.url)
  if (dialect._tag === "Refuse") {
    yield* Effect.flatMap(Metrics, (m) => Effect.sync(() => m.upgradeRefused("engine.io")))
    return HttpServerResponse.text(dialect.body, {
      status: dialect.status,
      contentType: "application/json",
      headers: { connection: "close" }
    })
  }
  const incoming = NodeHttpServerRequest.toIncomingMessage(request)
  const verdict = judgeUpgrade({
    target: request.url,
    httpVersion: incoming.httpVersion,
    headers: incoming.headers
  })
  // A failed upgrade ends its connection, as a refused upgrade on the raw socket does.
  return verdict._tag === "Refuse" && verdict.status !== 404
    ? text(verdict.reason + "\n", {
      status: verdict.status,
      headers: { ...verdict.headers, connection: "close" }
    })
    : text("Not found\n", { status: 404 })
})

const metrics = Effect.flatMap(Metrics, (m) => m.render).pipe(
  Effect.map(({ body, contentType }) => HttpServerResponse.text(body, { contentType }))
)

const router = HttpRouter.empty.pipe(
  HttpRouter.get("/cache-healthcheck", healthCheck),
  HttpRouter.head("/cache-healthcheck", healthCheck),
  HttpRouter.get("/metrics", metrics),
  HttpRouter.get("/", home),
  HttpRouter.head("/", home)
)

// The health check answers whatever the Host; everything else needs a valid one. A 500 never
// leaks a stack trace.
const app = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
  const problem = /^\/cache-healthcheck(?:\?|$)/.test(request.url) ? undefined : hostProblem(
    NodeHttpServerRequest.toIncomingMessage(request).httpVersion,
    request.headers["host"]
  )
  return problem === undefined
    ? router.pipe(Effect.catchTag("RouteNotFound", () => fallback))
    : Effect.succeed(text(problem + "\n", { status: 400, headers: { connection: "close" } }))
}).pipe(
  Effect.catchAllCause((cause) =>
    Effect.logError("Unhandled error in HTTP handler", cause).pipe(
      Effect.as(text("Internal server error\n", { status: 500 }))
    )
  ),
  Effect.map(HttpServerResponse.setHeaders(originHeaders))
)

// The handler stays attached until the Node server itself closes: while the sockets drain, the
// health check must still answer (503) so the load balancer stops routing here.
export const layer = Layer.effectDiscard(Effect.gen(function*() {
  const server = yield* NodeServer
  const handoff = yield* RequestHandoff
  const route = yield* NodeHttpServer.makeHandler(app)
  server.on("request", (request, response) => {
    if (handoff.claims(request)) handoff.take(request, response)
    else route(request, response)
  })
}))
