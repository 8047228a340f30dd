import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Net from "node:net"
import { dependency } from "../support/Dependency.js"
import { ensure, eventually } from "../support/Eventually.js"
import { httpUrl, wsUrl } from "../support/LocalUrls.js"
import { consecutive } from "../support/Sequences.js"
import { spawnService, waitForPort } from "../support/ServiceProcess.js"
import { connect } from "../support/WebSocketClient.js"

const prlimit = dependency(
  "the descriptor-limit test",
  ["/usr/bin/prlimit"],
  "prlimit is missing: install it with `apt-get install -y util-linux`"
)

describe("connection limits", () => {
  it.scopedLive.skipIf(prlimit.skip)(
    "survives running out of file descriptors, and caps MAX_CONNECTIONS below the limit",
    () =>
      Effect.gen(function*() {
        const prlimitPath = yield* prlimit.required
        const service = yield* spawnService(
          { PORT: "0", HOST: "127.0.0.1", FORGE_INTERVAL_MS: "20" },
          [prlimitPath, "--nofile=512:512", "--"]
        )
        const port = yield* waitForPort(service)
        assert.match(service.output(), /MAX_CONNECTIONS=10000 is above what 512 file descriptors allow; using 448/)
        const witness = yield* connect(wsUrl(port, "/_ws/"))
        yield* eventually(ensure(() => witness.received.length > 0, "witness receives"))
        // Far more connections than descriptors: accept fails with EMFILE for the excess.
        const flood = yield* Effect.acquireRelease(
          Effect.sync(() =>
            Array.from({ length: 800 }, () => Net.connect({ port, host: "127.0.0.1" }).on("error", () => {}))
          ),
          (sockets) => Effect.sync(() => sockets.forEach((s) => s.destroy()))
        )
        const before = witness.received.length
        yield* eventually(ensure(() => witness.received.length > before + 10, "witness still receives"))
        flood.forEach((s) => s.destroy())
        const health = yield* eventually(
          Effect.tryPromise(() => fetch(httpUrl(port, "/cache-healthcheck?"))).pipe(
            Effect.filterOrFail((r) => r.status === 200, () => new Error("not healthy yet"))
          )
        )
        assert.strictEqual(health.status, 200)
        const late = yield* connect(wsUrl(port, "/_ws/"))
        yield* eventually(ensure(() => late.received.length > 0, "a new client receives"))
        assert.isTrue(consecutive(witness.received), witness.received.join(","))
        assert.strictEqual(service.pid > 0 && (yield* Effect.sync(() => process.kill(service.pid, 0))), true)
      })
  )
})
