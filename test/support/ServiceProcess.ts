/**
 * The built service as a child process (`node dist/main.js`, what `npm start` runs), with its
 * output collected. The process is stopped by its PID when the scope closes, if still running.
 */
import { Duration, Effect, Schedule } from "effect"
import { repoPath } from "./RepoPaths.js"
import { type SpawnedProcess, spawnProcess } from "./SpawnedProcess.js"

const mainScript = repoPath("dist/main.js")

export interface ServiceProcess extends SpawnedProcess {
  /** The port it listens on, read from its start log. */
  readonly port: Effect.Effect<number, Error>
}

/**
 * Starts `node dist/main.js` with the given environment. `wrapper` runs it under another command
 * that execs it (such as `prlimit --nofile=… --`), so the PID is still the service's. With
 * `viaNpm` it is `npm start` instead, as the platform runs it: the PID is then npm's, and the
 * scope stops it with SIGTERM so that npm passes the signal on.
 */
export const spawnService = (
  env: Record<string, string>,
  wrapper: ReadonlyArray<string> = [],
  options: { readonly viaNpm?: boolean } = {}
) =>
  Effect.gen(function*() {
    const [command, ...args] = options.viaNpm ? ["npm", "start"] : [...wrapper, process.execPath, mainScript]
    const service = yield* spawnProcess(command!, args, {
      env: { NODE_ENV: "test", ...env },
      cwd: repoPath("."),
      ...(options.viaNpm ? { stopSignal: "SIGTERM" as const } : {})
    })
    const port = Effect.suspend(() => {
      // The second start line, so that both are in the output once the port is known.
      const match = /Try it: websocat ws:\/\/\S+:(\d+)\/_ws\//.exec(service.output())
      return match ? Effect.succeed(Number(match[1])) : Effect.fail(new Error("not listening yet"))
    })
    return { ...service, port } satisfies ServiceProcess
  })

export const waitForPort = (service: ServiceProcess, within = Duration.seconds(10)) =>
  service.port.pipe(
    Effect.retry(Schedule.spaced(Duration.millis(20))),
    Effect.timeoutFail({ duration: within, onTimeout: () => new Error(`no start log in time:\n${service.output()}`) })
  )
