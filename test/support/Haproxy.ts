/**
 * A real HAProxy (Debian's) in front of the test's instances: round robin, no stickiness, health
 * checks on `/cache-healthcheck`, as the platform's proxy routes, and otherwise left at its
 * defaults. It runs in the foreground and is stopped by its PID with the scope.
 */
import { Effect } from "effect"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { haproxyConfig } from "../../scripts/haproxyConfig.mjs"
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
