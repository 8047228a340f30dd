/**
 * A real HAProxy (Debian's) in front of the test's instances: round robin, no stickiness, health
 * checks on `/cache-healthcheck`, as the platform's proxy routes. It runs in the foreground and
 * is stopped by its PID with the scope.
 */
import { Duration, Effect, Schedule } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as Net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { dependency } from "./Dependency.js"
import { freePort } from "./RedisServer.js"
import { spawnProcess } from "./SpawnedProcess.js"

export const haproxyBinary = dependency(
  "the deploy drill",
  ["/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"],
  "haproxy is missing: install it with `apt-get install -y haproxy`"
)

/**
 * The configuration docs/scaling.md recommends: a connection refused or a 503 from an instance
 * that is going away is retried on another one (`retry-on`, `option redispatch 1`), and an
 * instance whose health check fails leaves the rotation within a check.
 */
export const haproxyConfig = (port: number, backends: ReadonlyArray<number>) =>
  [
    "global",
    // Two descriptors a connection, under the 20,000 open files this machine allows.
    "  maxconn 8000",
    "defaults",
    "  mode http",
    "  timeout connect 1s",
    "  timeout client 60s",
    "  timeout server 60s",
    "  timeout tunnel 1h",
    "  timeout http-request 5s",
    "  retries 3",
    "  option redispatch 1",
    "  retry-on conn-failure empty-response response-timeout 503",
    "frontend integers",
    `  bind 127.0.0.1:${port}`,
    "  default_backend forge",
    "backend forge",
    "  balance roundrobin",
    "  option httpchk GET /cache-healthcheck",
    "  http-check expect status 200",
    "  default-server inter 250ms fall 1 rise 1",
    ...backends.map((backend, i) => `  server forge${i + 1} 127.0.0.1:${backend} check`),
    ""
  ].join("\n")

/**
 * HAProxy as it comes, but for speaking HTTP: round robin (its default balance), no health checks,
 * no timeouts, no redispatch and no `retry-on` beyond its default (a refused connection is tried
 * again on the same server), so a client whose instance is going away gets that instance's 503,
 * or HAProxy's own, and retries by itself.
 */
export const haproxyDefaultsConfig = (port: number, backends: ReadonlyArray<number>) =>
  [
    "defaults",
    "  mode http",
    "frontend integers",
    `  bind 127.0.0.1:${port}`,
    "  default_backend forge",
    "backend forge",
    ...backends.map((backend, i) => `  server forge${i + 1} 127.0.0.1:${backend}`),
    ""
  ].join("\n")

const accepts = (port: number) =>
  Effect.async<void, Error>((resume) => {
    const socket = Net.connect({ port, host: "127.0.0.1" }, () => {
      socket.destroy()
      resume(Effect.void)
    })
    socket.on("error", (error) => resume(Effect.fail(error)))
  })

/** HAProxy on a free port in front of `backends`, for the life of the scope. */
export const haproxy = (backends: ReadonlyArray<number>, configOf = haproxyConfig) =>
  Effect.gen(function*() {
    const path = yield* haproxyBinary.required
    const port = yield* freePort
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "integer-forge-haproxy-"))),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    )
    const config = join(dir, "haproxy.cfg")
    writeFileSync(config, configOf(port, backends))
    // -db: stay in the foreground, so that the PID the scope stops is HAProxy's own.
    const proxy = yield* spawnProcess(path, ["-db", "-f", config])
    yield* accepts(port).pipe(
      Effect.retry(Schedule.spaced(Duration.millis(20))),
      Effect.timeoutFail({
        duration: Duration.seconds(10),
        onTimeout: () => new Error(`haproxy did not start:\n${proxy.output()}`)
      }),
      Effect.orDie
    )
    return { port, process: proxy }
  })
