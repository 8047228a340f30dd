/**
 * The signals supervisors really send, to `npm start`: to the whole process group (systemd's
 * default KillMode=control-group, Heroku's dyno manager, dumb-init), the same signal twice, and
 * Ctrl-C twice at a terminal. The service gets more than one termination signal in each; every
 * pattern must still be one drain: every client told 1012, exit code 0, nothing left listening,
 * and the repeat logged once. Each pattern runs several times at once, as it is a race between
 * the signals and the drain.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect } from "effect"
import { ensure, eventually } from "../support/Eventually.js"
import { wsUrl } from "../support/LocalUrls.js"
import { refusesConnections } from "../support/Ports.js"
import { type ServiceProcess, spawnService, waitForPort } from "../support/ServiceProcess.js"
import { connect } from "../support/WebSocketClient.js"

const runsPerPattern = 4
const clientsPerRun = 10

interface Pattern {
  readonly name: string
  readonly send: (service: ServiceProcess) => Effect.Effect<void>
  /**
   * Whether the service surely sees a second signal. Signals sent within a moment of each other
   * (the group's copy and npm's forwarded one) may reach it as one: the kernel keeps one pending
   * signal of a kind, not a count.
   */
  readonly repeatSeen: boolean
}

const twice = (signal: NodeJS.Signals, apartMs: number, to: "npm" | "group"): Pattern => ({
  name: `${signal} twice to ${to === "npm" ? "npm's PID" : "the process group"}, ${apartMs} ms apart`,
  send: (service) => {
    const once = Effect.sync(() => to === "npm" ? service.kill(signal) : service.killGroup(signal))
    return once.pipe(Effect.zipRight(Effect.sleep(Duration.millis(apartMs))), Effect.zipRight(once))
  },
  repeatSeen: apartMs >= 100
})

const patterns: ReadonlyArray<Pattern> = [
  {
    name: "SIGTERM to the whole process group",
    send: (service) => Effect.sync(() => service.killGroup("SIGTERM")),
    repeatSeen: false
  },
  twice("SIGTERM", 5, "npm"),
  twice("SIGTERM", 300, "npm"),
  twice("SIGINT", 200, "group")
]

/** One run: `npm start`, clients receiving, the pattern, then what the clients and npm saw. */
const run = (pattern: Pattern) =>
  Effect.gen(function*() {
    const service = yield* spawnService({
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_FORMAT: "json",
      FORGE_INTERVAL_MS: "50",
      SHUTDOWN_TIMEOUT_MS: "3000",
      SHUTDOWN_SPREAD_MS: "300"
    })
    const port = yield* waitForPort(service)
    const clients = yield* Effect.forEach(Array.from({ length: clientsPerRun }), () => connect(wsUrl(port, "/_ws/")))
    yield* eventually(ensure(() => clients.every((c) => c.received.length > 0), "every client has integers"))
    yield* pattern.send(service)
    const codes = yield* Effect.forEach(clients, (c) => Deferred.await(c.closed).pipe(Effect.map(({ code }) => code)))
    const exit = yield* Deferred.await(service.exited).pipe(Effect.timeout(Duration.seconds(10)))
    const repeats = service.log().split("\n").filter((line) => line.includes("during the shutdown that"))
    return { codes, exit, repeats, listening: !(yield* refusesConnections(port)), output: service.output() }
  }).pipe(Effect.scoped)

describe("termination signals as supervisors send them, to npm start", () => {
  for (const pattern of patterns) {
    it.scopedLive(
      `${pattern.name}: every client told 1012, exit 0, nothing left listening (${runsPerPattern} runs)`,
      () =>
        Effect.gen(function*() {
          const runs = yield* Effect.forEach(Array.from({ length: runsPerPattern }), () => run(pattern), {
            concurrency: "unbounded"
          })
          for (const result of runs) {
            assert.deepStrictEqual(result.exit, { code: 0, signal: null }, result.output)
            assert.deepStrictEqual(result.codes, Array(clientsPerRun).fill(1012), result.output)
            assert.isFalse(result.listening, "nothing listens once npm has exited")
            if (pattern.repeatSeen) assert.lengthOf(result.repeats, 1, `a repeat is logged once:\n${result.output}`)
            else assert.isAtMost(result.repeats.length, 1, `a repeat is logged at most once:\n${result.output}`)
          }
        }),
      60_000
    )
  }
})
