/**
 * One millisecond clock for every process of a benchmark run.
 *
 * Receive times are taken in several load processes and compared with each other and with the
 * runner's window, so they must come from a clock all processes share: CLOCK_MONOTONIC, which
 * `process.hrtime` reads. `performance.now()` runs on that same clock from this process's start
 * and is cheaper to call per chunk, so the offset between the two is taken once.
 */
import { performance } from "node:perf_hooks"

const offsetMs = Number(process.hrtime.bigint()) / 1e6 - performance.now()

/** Milliseconds on the machine's monotonic clock, comparable across processes. */
export const monotonicMs = () => performance.now() + offsetMs

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
