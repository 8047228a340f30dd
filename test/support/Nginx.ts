/**
 * A real nginx (Debian's) in front of the test's instances, left at its defaults but for what
 * proxying WebSockets needs at all (HTTP/1.1 to the upstream, the Upgrade and Connection headers
 * passed on, nginx's own documented recipe). Round robin, passive checks only (`max_fails=1
 * fail_timeout=10s`), `proxy_next_upstream error timeout`: a 503 from an instance reaches the
 * client as it is. It runs in the foreground (`daemon off`) with a prefix of its own in a
 * temporary folder, and is stopped by its PID with the scope.
 */
import { Effect } from "effect"
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { dependency } from "./Dependency.js"
import { untilAccepting } from "./Ports.js"
import { freePort } from "./RedisServer.js"
import { spawnProcess } from "./SpawnedProcess.js"
import { temporaryFolder } from "./TemporaryFolder.js"

export const nginxBinary = dependency(
  "the deploy drill behind nginx",
  ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"],
  "nginx is missing: install it with `apt-get install -y nginx`"
)

export const nginxConfig = (port: number, backends: ReadonlyArray<number>) =>
  [
    "daemon off;",
    "pid nginx.pid;",
    "error_log logs/error.log;",
    "events {}",
    "http {",
    "  access_log off;",
    "  map $http_upgrade $connection_upgrade { default upgrade; '' close; }",
    "  upstream forge {",
    ...backends.map((backend) => `    server 127.0.0.1:${backend};`),
    "  }",
    "  server {",
    `    listen 127.0.0.1:${port};`,
    "    location / {",
    "      proxy_pass http://forge;",
    "      proxy_http_version 1.1;",
    "      proxy_set_header Upgrade $http_upgrade;",
    "      proxy_set_header Connection $connection_upgrade;",
    "      proxy_set_header Host $host;",
    "    }",
    "  }",
    "}",
    ""
  ].join("\n")

/** nginx on a free port in front of `backends`, for the life of the scope. */
export const nginx = (backends: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    const path = yield* nginxBinary.required
    const port = yield* freePort
    const dir = yield* temporaryFolder("integer-forge-nginx-")
    // Its workers run as an unprivileged user and keep their temporary files under the prefix.
    chmodSync(dir, 0o755)
    mkdirSync(join(dir, "logs"))
    const config = join(dir, "nginx.conf")
    writeFileSync(config, nginxConfig(port, backends))
    // Its own process group: the master and its workers are stopped together.
    const proxy = yield* spawnProcess(path, ["-p", dir, "-c", config, "-e", join(dir, "logs/error.log")], {
      stopSignal: "SIGTERM",
      group: true
    })
    yield* untilAccepting(port, () => `nginx did not start:\n${proxy.output()}`)
    const errorLog = join(dir, "logs/error.log")
    return {
      port,
      process: proxy,
      /**
       * Rewrites the upstream to `next` and reloads (SIGHUP to the master): new connections go by
       * the new list, established ones stay with the old workers until they close.
       */
      route: (next: ReadonlyArray<number>) =>
        Effect.sync(() => {
          writeFileSync(config, nginxConfig(port, next))
          proxy.kill("SIGHUP")
        }),
      /** What nginx logged at `error` and above (its default level). */
      errorLog: () => existsSync(errorLog) ? readFileSync(errorLog, "utf8") : ""
    }
  })
