/**
 * The command-line client as its users run it: `npm run -s client -- …` (npm execs
 * dist/client/cli.js), in a process group of its own, as a terminal runs a command. Ctrl-C at a
 * terminal signals the whole group: npm and the client each get a SIGINT, and npm passes its own on.
 */
import { repoPath } from "./RepoPaths.js"
import { type SpawnedProcess, type SpawnOptions, spawnProcess } from "./SpawnedProcess.js"

export const spawnClient = (args: ReadonlyArray<string>, options: Pick<SpawnOptions, "openStdin"> = {}) =>
  spawnProcess("npm", ["run", "-s", "client", "--", ...args], { ...options, cwd: repoPath("."), group: true })

/** Ctrl-C, as the person who started it would press it. */
export const ctrlC = (client: SpawnedProcess) => client.killGroup("SIGINT")
