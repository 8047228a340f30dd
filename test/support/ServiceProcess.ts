/**
 * The built service as a child process, as it ships: `npm start` (which execs `node dist/main.cjs`,
 * the esbuild bundle) in a process group of its own, as a supervisor starts it. A test that must
 * signal the service itself, or run it under a wrapper, gets `node dist/main.cjs` directly. Either
 * way the scope stops it by its PID (npm's group, with the service in it) if it is still running.
 */
import { assert } from "@effect/vitest"
import { Deferred, Duration, Effect, Schedule } from "effect"
import { ensure, eventually } from "./Eventually.js"
import { wsUrl } from "./LocalUrls.js"
import { repoPath } from "./RepoPaths.js"
import { type SpawnedProcess, spawnProcess } from "./SpawnedProcess.js"
import { connect } from "./WebSocketClient.js"

const mainScript = repoPath("dist/main.cjs")

export interface ServiceProcess extends SpawnedProcess {
  /** The port it listens on, read from its start log. */
  readonly port: Effect.Effect<number, Error>
  /** What the service itself wrote, without the lines npm prints before it. */
  readonly log: () => string
}

export interface ServiceOptions {
  /** `node dist/main.cjs` with this process's PID, instead of `npm start`: for signalling it. */
  readonly direct?: boolean
}

// What `npm run` prints before the script's own output: "> name@version start", "> command".
const npmBanner = /^(?:\n?> [^\n]*\n)+\n?/

/**
 * Starts the service with the given environment: `npm start` unless `direct` or a `wrapper` (a
 * command that execs it, such as `prlimit --nofile=… --`, so the PID is still the service's).
 */
export const spawnService = (
  env: Record<string, string>,
  wrapper: ReadonlyArray<string> = [],
  options: ServiceOptions = {}
) =>
  Effect.gen(function*() {
    const viaNpm = wrapper.length === 0 && options.direct !== true
    const [command, ...args] = viaNpm ? ["npm", "start"] : [...wrapper, process.execPath, mainScript]
    const service = yield* spawnProcess(command!, args, {
      env: { NODE_ENV: "test", ...env },
      cwd: repoPath("."),
      // npm's group holds npm and the service; SIGKILL for the group leaves neither behind.
      group: viaNpm
    })
    const port = Effect.suspend(() => {
      // The last start line, so that all of them are in the output once the port is known.
      const match = /Try it: websocat ws:\/\/\S+:(\d+)\/_ws\//.exec(service.output())
      return match ? Effect.succeed(Number(match[1])) : Effect.fail(new Error("not listening yet"))
    })
    const log = () => viaNpm ? service.output().replace(npmBanner, "") : service.output()
    return { ...service, port, log } satisfies ServiceProcess
  })

export const waitForPort = (service: ServiceProcess, within = Duration.seconds(10)) =>
  service.port.pipe(
    Effect.retry(Schedule.spaced(Duration.millis(20))),
    Effect.timeoutFail({ duration: within, onTimeout: () => new Error(`no start log in time:\n${service.output()}`) })
  )

/** `npm start` on a free port of 127.0.0.1 with JSON logs and `env`, once it listens. */
export const serviceOnFreePort = (env: Readonly<Record<string, string>>) =>
  Effect.gen(function*() {
    const service = yield* spawnService({ PORT: "0", HOST: "127.0.0.1", LOG_FORMAT: "json", ...env })
    return { service, port: yield* waitForPort(service) }
  })

/**
 * `npm start` on a fixed port that the test stops (SIGTERM to npm's PID, as a deploy does) and
 * starts again, while its clients stay connected and reconnect.
 */
export const restartableService = (env: Record<string, string>) =>
  Effect.gen(function*() {
    const start = (port: string) =>
      spawnService({ HOST: "127.0.0.1", ...env, PORT: port }).pipe(
        Effect.tap((service) => waitForPort(service))
      )
    let current = yield* start(env["PORT"] ?? "0")
    const port = yield* current.port
    return {
      port,
      current: () => current,
      /** SIGTERM to npm's PID; done once npm has exited (0, or the test fails). */
      stop: Effect.gen(function*() {
        current.kill("SIGTERM")
        const exit = yield* Deferred.await(current.exited).pipe(Effect.timeout(Duration.seconds(15)))
        if (exit.code !== 0) return yield* Effect.dieMessage(`the service exited ${exit.code}:\n${current.output()}`)
      }),
      /** A new instance on the same port, for the rest of the test's scope. */
      restart: Effect.gen(function*() {
        current = yield* start(String(port))
      })
    }
  })

/**
 * One start of dist/main.cjs on a free port, with `env`: it serves `integers` integers on /_ws/,
 * and is stopped by SIGTERM, which it answers by exiting with 0. What the client received.
 */
export const serveAndStop = (env: Record<string, string>, integers: number) =>
  Effect.gen(function*() {
    const service = yield* spawnService({ PORT: "0", HOST: "127.0.0.1", FORGE_INTERVAL_MS: "20", ...env }, [], {
      direct: true
    })
    const client = yield* connect(wsUrl(yield* waitForPort(service), "/_ws/"))
    yield* eventually(ensure(() => client.received.length >= integers, "integers"))
    service.kill("SIGTERM")
    assert.strictEqual((yield* Deferred.await(service.exited)).code, 0, service.output())
    return client.received
  }).pipe(Effect.scoped)
