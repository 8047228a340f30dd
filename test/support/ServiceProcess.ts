/**
 * The built service as a child process (`node dist/main.js`, what `npm start` runs), with its
 * output collected. The process is stopped by its PID when the scope closes, if still running.
 */
import { Deferred, Duration, Effect, Schedule } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

const mainScript = fileURLToPath(new URL("../../dist/main.js", import.meta.url))

export interface ServiceProcess {
  readonly pid: number
  readonly output: () => string
  readonly exited: Deferred.Deferred<{ readonly code: number | null; readonly signal: string | null }>
  /** Stops reading its output, as a log collector that died would. */
  readonly closeOutput: () => void
  /** The port it listens on, read from its start log. */
  readonly port: Effect.Effect<number, Error>
}

/**
 * Starts `node dist/main.js` with the given environment. `wrapper` runs it under another command
 * that execs it (such as `prlimit --nofile=… --`), so the PID is still the service's.
 */
export const spawnService = (env: Record<string, string>, wrapper: ReadonlyArray<string> = []) =>
  Effect.gen(function*() {
    const exited = yield* Deferred.make<{ readonly code: number | null; readonly signal: string | null }>()
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn(wrapper[0] ?? process.execPath, [
          ...wrapper.slice(1),
          ...(wrapper.length > 0 ? [process.execPath] : []),
          mainScript
        ], {
          env: { ...process.env, NODE_ENV: "test", ...env },
          stdio: ["ignore", "pipe", "pipe"]
        })
      ),
      (child) =>
        Effect.sync(() => {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
        })
    )
    let output = ""
    child.stdout.on("data", (chunk) => (output += String(chunk)))
    child.stderr.on("data", (chunk) => (output += String(chunk)))
    child.on("exit", (code, signal) => Deferred.unsafeDone(exited, Effect.succeed({ code, signal })))
    const port = Effect.suspend(() => {
      // The second start line, so that both are in the output once the port is known.
      const match = /Try it: websocat ws:\/\/\S+:(\d+)\/_ws\//.exec(output)
      return match ? Effect.succeed(Number(match[1])) : Effect.fail(new Error("not listening yet"))
    })
    const closeOutput = () => {
      child.stdout.destroy()
      child.stderr.destroy()
    }
    return { pid: child.pid!, output: () => output, exited, port, closeOutput } satisfies ServiceProcess
  })

export const waitForPort = (service: ServiceProcess, within = Duration.seconds(10)) =>
  service.port.pipe(
    Effect.retry(Schedule.spaced(Duration.millis(20))),
    Effect.timeoutFail({ duration: within, onTimeout: () => new Error(`no start log in time:\n${service.output()}`) })
  )
