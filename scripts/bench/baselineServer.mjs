/**
 * The baseline: what one would write instead of Integer Forge with the `ws` library, following
 * its own broadcast example: one shared `setInterval` that loops over `wss.clients` and calls
 * `send`. Same semantics as the service where the benchmark can see them: upgrades only on
 * paths starting with /_ws/ or /socket.io/ (404 elsewhere), one counter for the process that
 * ticks only while clients are connected and carries on where it stopped, integers as text
 * frames, 503 past MAX_CONNECTIONS. It does not speak Socket.IO: the benchmark uses /_ws/.
 *
 * Environment: PORT (default 3000), HOST (default all interfaces), FORGE_INTERVAL_MS (default
 * 1000), MAX_CONNECTIONS (default unlimited), and BASELINE_SEND, how each tick is sent:
 * - `example` (default): the string to every `send`, as the example does;
 * - `once`: each integer encoded once per tick, a Buffer with the service's send options;
 * - `frame`: the whole WebSocket frame built once per tick and written to each client's TCP
 *   socket (the one the `upgrade` event handed over), bypassing ws's per-send framing: a
 *   measure of what framing per send costs.
 */
import * as Http from "node:http"
import { WebSocket, WebSocketServer } from "ws"

const env = (name, fallback) => (process.env[name] === undefined ? fallback : Number(process.env[name]))
const port = env("PORT", 3000)
const host = process.env["HOST"]
const intervalMs = env("FORGE_INTERVAL_MS", 1000)
const maxConnections = env("MAX_CONNECTIONS", Infinity)
const sendMode = process.env["BASELINE_SEND"] ?? "example"
if (!["example", "once", "frame"].includes(sendMode)) throw new Error(`unknown BASELINE_SEND ${sendMode}`)

const allowed = (url = "") => url.startsWith("/_ws/") || url.startsWith("/socket.io/")
const textFrame = { binary: false, compress: false, fin: true }

const server = Http.createServer((request, response) => {
  response.writeHead(allowed(request.url) ? 400 : 404, { "content-type": "text/plain" })
  response.end(allowed(request.url) ? "WebSocket upgrade required\n" : "Not found\n")
})
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false })
// Each accepted WebSocket's TCP socket, for the `frame` mode.
const tcpOf = new WeakMap()

let last = 0
let timer

// A final, unmasked text frame whose payload is under 126 bytes: a 2-byte header.
const wholeFrame = (payload) => Buffer.concat([Buffer.from([0x81, payload.length]), payload])

const tick = () => {
  last++
  if (sendMode === "once") {
    const payload = Buffer.from(String(last))
    for (const client of wss.clients) {
      if (client.readyState === WebSocket.OPEN) client.send(payload, textFrame)
    }
  } else if (sendMode === "frame") {
    const frame = wholeFrame(Buffer.from(String(last)))
    for (const client of wss.clients) {
      // ws writes its frames synchronously (no compression), so a raw write cannot split one.
      if (client.readyState === WebSocket.OPEN) tcpOf.get(client).write(frame)
    }
  } else {
    const data = String(last)
    wss.clients.forEach((client) => {
      if (client.readyState === WebSocket.OPEN) client.send(data)
    })
  }
}

const refuse = (socket, status) => {
  socket.once("finish", () => socket.destroy())
  socket.end(`HTTP/1.1 ${status} ${Http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
}

server.on("upgrade", (request, socket, head) => {
  socket.on("error", () => {})
  if (!allowed(request.url)) return refuse(socket, 404)
  if (wss.clients.size >= maxConnections) return refuse(socket, 503)
  wss.handleUpgrade(request, socket, head, (ws) => {
    tcpOf.set(ws, socket)
    ws.on("error", () => {})
    // The timer runs while at least one client is connected.
    if (timer === undefined) timer = setInterval(tick, intervalMs)
    ws.on("close", () => {
      if (wss.clients.size === 0 && timer !== undefined) {
        clearInterval(timer)
        timer = undefined
      }
    })
    wss.emit("connection", ws, request)
  })
})

server.listen({ port, host }, () => {
  const address = /** @type {import("node:net").AddressInfo} */ (server.address())
  console.log(`Baseline listening on ${address.address} port ${address.port}`)
})

const stop = () => {
  clearInterval(timer)
  for (const client of wss.clients) client.terminate()
  server.close(() => process.exit(0))
}
process.on("SIGTERM", stop)
process.on("SIGINT", stop)
