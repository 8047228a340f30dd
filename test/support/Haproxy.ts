/**
 * A real HAProxy (Debian's) in front of the test's instances: round robin, no stickiness, health
 * checks on `/cache-healthcheck`, as the platform's proxy routes, and otherwise left at its
 * defaults. It runs in the foreground and is stopped by its PID with the scope.
 */
import { Effect } from "effect"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { dependency } from "./Dependency.js"
import { untilAccepting } from "./Ports.js"
import { freePort } from "./RedisServer.js"
import { spawnProcess } from "./SpawnedProcess.js"
import { temporaryFolder } from "./TemporaryFolder.js"

export const haproxyBinary = dependency(
  "the deploy drill",
  ["/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"],
  "haproxy is missing: install it with `apt-get install -y haproxy`"
)

/**
 * HAProxy as it is mostly left: nothing tuned for the service. Connection failures are retried
 * (HAProxy's default `retry-on conn-failure`, `retries 3`) on another instance
 * (`option redispatch`); a 503 from an instance is passed on to the client as it is. Health
 * checks every second, an instance out after two failed ones and back after two good ones
 * (`fall 2`, `rise 2`). The timeouts are those of Debian's own haproxy.cfg.
 */
export const haproxyConfig = (port: number, backends: ReadonlyArray<number>) =>
  [
    "global",
    // Two descriptors a connection, under the 20,000 open files this machine allows.
    "  maxconn 8000",
    "defaults",
    "  mode http",
    "  timeout connect 5s",
    "  timeout client 50s",
    "  timeout server 50s",
    "  retries 3",
    "  option redispatch",
    "frontend integers",
    `  bind 127.0.0.1:${port}`,
    "  default_backend forge",
    "backend forge",
    "  balance roundrobin",
    "  option httpchk GET /cache-healthcheck",
    ...backends.map((backend, i) => `  server forge${i + 1} 127.0.0.1:${backend} check inter 1s fall 2`),
    ""
  ].join("\n")

/** HAProxy on a free port in front of `backends`, for the life of the scope. */
export const haproxy = (backends: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    const path = yield* haproxyBinary.required
    const port = yield* freePort
    const dir = yield* temporaryFolder("integer-forge-haproxy-")
    const config = join(dir, "haproxy.cfg")
    writeFileSync(config, haproxyConfig(port, backends))
    // -db: stay in the foreground, so that the PID the scope stops is HAProxy's own.
    const proxy = yield* spawnProcess(path, ["-db", "-f", config])
    yield* untilAccepting(port, () => `haproxy did not start:\n${proxy.output()}`)
    return { port, process: proxy }
  })
