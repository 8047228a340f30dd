/**
 * Where JSON log lines go: stdout, in batches. Writing to a pipe is synchronous on Linux, and one
 * `write` per line made log output the largest single cost of accepting a connection (a fifth of
 * the CPU of 10,000 handshakes, profiled), so lines are gathered and written together once the
 * current burst of I/O has been handled, or at once when many have piled up. Nothing is lost on
 * exit: what is pending is written synchronously then.
 */

// Past this many pending lines, write now rather than let them pile up in memory.
const maxPending = 1024

export interface LineOutput {
  readonly write: (line: string) => void
  readonly flush: () => void
}

export const makeBatchedOutput = (sink: (text: string) => void): LineOutput => {
  let pending: Array<string> = []
  let scheduled: ReturnType<typeof setImmediate> | undefined
  const flush = () => {
    if (scheduled !== undefined) clearImmediate(scheduled)
    scheduled = undefined
    if (pending.length === 0) return
    const text = pending.join("\n") + "\n"
    pending = []
    sink(text)
  }
  const write = (line: string) => {
    pending.push(line)
    if (pending.length >= maxPending) flush()
    else if (scheduled === undefined) scheduled = setImmediate(flush)
  }
  return { write, flush }
}
