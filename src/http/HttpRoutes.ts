/**
 * The plain HTTP side of the service, on the platform's router: the health check first, a short
 * page at `/`, a clear 400 for plain requests on WebSocket paths, 404 for the rest. Every
 * response, errors included, carries `x-vip-reached-origin: true`.
 */
// Each module by its own path: the packages' indexes pull in clients, clusters and RPC that the
// service never runs, and loading them was most of its start-up.
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

// The platform probes `/cache-healthcheck?`; the router matches the path, whatever the query.
// It reads one flag and nothing else, so it answers at once even when the forge is busy. It
// turns 503 as soon as shutdown begins, before the sockets are let go (SHUTDOWN_NOTICE_MS).
const healthCheck = Effect.map(Lifecycle, (lifecycle) =>
  lifecycle.phase() === "serving"
    ? text("ok\n")
    : text("draining\n", { status: 503 }))

// Only characters that can appear in a host name or address, so a hostile Host header cannot
// inject anything into the page.
const hostForExample = (host: string | undefined): string =>
  host !== undefined && /^[A-Za-z0-9.:[\]-]{1,255}$/.test(host) ? host : "localhost:3000"

const pace = (intervalMs: number) => intervalMs === 1000 ? "one a second" : `one every ${intervalMs} ms`

export const homePage = (host: string, intervalMs: number) =>
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
  if (wantsHtml(request.headers["accept"])) {
    return HttpServerResponse.text(demoPage(host), {
      contentType: "text/html; charset=utf-8",
      headers: { vary: "accept" }
    })
  }
  const { intervalMs } = yield* ForgeConfig
  return text(homePage(host, intervalMs), { headers: { vary: "accept" } })
})

// A request the router does not know: on a WebSocket path it is a failed upgrade (400 with the
// reason), anywhere else it is simply not found.
const fallback = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  // A Socket.IO client on its default transports starts with a long-polling GET: it gets
  // Engine.IO's own error at once, not a wait for a session this platform cannot keep.
  const dialect = dialectOf(request.url)
  if (dialect._tag === "Refuse") {
    // Counted with the upgrades refused for the same reason: a polling client is one that
    // will never manage to upgrade.
    yield* Effect.flatMap(Metrics, (m) => Effect.sync(() => m.upgradeRefused("engine.io")))
    return HttpServerResponse.text(dialect.body, {
      status: dialect.status,
      contentType: "application/json",
      headers: { connection: "close" }
    })
  }
  const incoming = NodeHttpServerRequest.toIncomingMessage(request)
  const verdict = judgeUpgrade({
    method: request.method,
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

export const router = HttpRouter.empty.pipe(
  HttpRouter.get("/cache-healthcheck", healthCheck),
  HttpRouter.head("/cache-healthcheck", healthCheck),
  HttpRouter.get("/metrics", metrics),
  HttpRouter.get("/", home),
  HttpRouter.head("/", home)
)

// The health check answers whatever the Host; everything else needs a valid one.
const withValidHost = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
  const problem = /^\/cache-healthcheck(?:\?|$)/.test(request.url) ? undefined : hostProblem(
    NodeHttpServerRequest.toIncomingMessage(request).httpVersion,
    request.headers["host"]
  )
  return problem === undefined
    ? router.pipe(Effect.catchTag("RouteNotFound", () => fallback))
    : Effect.succeed(text(problem + "\n", { status: 400, headers: { connection: "close" } }))
})

/** The whole HTTP application: routes, fallback, and a 500 that never leaks a stack trace. */
export const app = withValidHost.pipe(
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
