/**
 * A program that some tests need and npm does not install. Where it is missing, its tests skip
 * with a message saying how to install it; under CI=true they run and fail instead, because
 * .ci/run installs it and a missing one there means CI is broken, not that the tests may pass.
 */
import { Effect } from "effect"
import { existsSync } from "node:fs"

export interface Dependency {
  /** For `skipIf`: missing, outside CI. */
  readonly skip: boolean
  /** Its path, or the test dies with the message saying how to install it. */
  readonly required: Effect.Effect<string>
}

/** The first of `candidates` that exists; `missing` says what is missing and how to install it. */
export const dependency = (tests: string, candidates: ReadonlyArray<string>, missing: string): Dependency => {
  const path = candidates.find((candidate) => existsSync(candidate))
  const skip = path === undefined && process.env["CI"] !== "true"
  if (skip) console.warn(`Skipping ${tests}. ${missing}`)
  return {
    skip,
    required: Effect.suspend(() => path === undefined ? Effect.die(new Error(missing)) : Effect.succeed(path))
  }
}
