/**
 * A child process of the test's, with its output collected. If it is still running when the
 * scope closes, it is stopped by its PID (with its whole process group when it leads one), and
 * the scope waits for it to exit, so that no test leaves a process behind.
 */
import { Deferred, Duration, Effect } from "effect"
import { spawn } from "node:child_process"

export interface ProcessExit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface SpawnedProcess {
  readonly pid: number
  readonly stdout: () => string
  readonly stderr: () => string
  /** stdout and stderr interleaved as they arrived, as a terminal shows them. */
  readonly output: () => string
  readonly exited: Deferred.Deferred<ProcessExit>
  /** Sends the signal, unless the process has already exited. */
  readonly kill: (signal: NodeJS.Signals) => void
  /**
   * Sends the signal to its whole process group, as systemd, Heroku's dyno manager and dumb-init
   * do; only for a process spawned with `group`.
   */
  readonly killGroup: (signal: NodeJS.Signals) => void
  /** Stops reading its output, as a log collector that died would. */
  readonly closeOutput: () => void
}

export interface SpawnOptions {
  /** Added to this process's environment. */
  readonly env?: Record<string, string>
  /** How the scope stops it: SIGKILL, unless it must get to stop processes of its own. */
  readonly stopSignal?: NodeJS.Signals
  /** Where it runs; this process's working directory unless said. */
  readonly cwd?: string
  /** Gives it a standard input that stays open (an interactive client quits at end of input). */
  readonly openStdin?: boolean
  /**
   * Makes it lead a process group of its own (a new session), as a supervisor starts a service:
   * signals for the group reach it and its children, and the scope stops them all.
   */
  readonly group?: boolean
}

// How long the scope waits for a stopped process before it kills it outright.
const stopGraceMs = 10_000

export const spawnProcess = (
  command: string,
  args: ReadonlyArray<string>,
  { cwd, env = {}, group = false, openStdin = false, stopSignal = "SIGKILL" }: SpawnOptions = {}
) =>
  Effect.gen(function*() {
    const exited = yield* Deferred.make<ProcessExit>()
    let stdout = ""
    let stderr = ""
    let output = ""
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const child = spawn(command, args, {
          env: { ...process.env, ...env },
          stdio: [openStdin ? "pipe" : "ignore", "pipe", "pipe"],
          detached: group,
          ...(cwd === undefined ? {} : { cwd })
        })
        // Listening from the start: a short-lived process may be gone before the fiber resumes.
        child.stdout!.on("data", (chunk) => {
          stdout += String(chunk)
          output += String(chunk)
        })
        child.stderr!.on("data", (chunk) => {
          stderr += String(chunk)
          output += String(chunk)
        })
        child.on("exit", (code, signal) => Deferred.unsafeDone(exited, Effect.succeed({ code, signal })))
        return child
      }),
      (child) =>
        Effect.gen(function*() {
          const signal = group ? (s: NodeJS.Signals) => killGroup(child, s) : (s: NodeJS.Signals) => kill(child, s)
          signal(stopSignal)
          const stopped = yield* Deferred.await(exited).pipe(
            Effect.timeout(Duration.millis(stopGraceMs)),
            Effect.option
          )
          if (stopped._tag === "None") signal("SIGKILL")
          // The group may outlive its leader (npm gone, the service it started still draining).
          if (group) killGroup(child, "SIGKILL")
        })
    )
    return {
      pid: child.pid!,
      stdout: () => stdout,
      stderr: () => stderr,
      output: () => output,
      exited,
      kill: (signal) => kill(child, signal),
      killGroup: (signal) => {
        if (!group) throw new Error("killGroup: the process was not spawned with `group`")
        killGroup(child, signal)
      },
      closeOutput: () => {
        child.stdout!.destroy()
        child.stderr!.destroy()
      }
    } satisfies SpawnedProcess
  })

const kill = (child: ReturnType<typeof spawn>, signal: NodeJS.Signals) => {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal)
}

const killGroup = (child: ReturnType<typeof spawn>, signal: NodeJS.Signals) => {
  try {
    process.kill(-child.pid!, signal)
  } catch (error) {
    // Nobody left in the group.
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error
  }
}
