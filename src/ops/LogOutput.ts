/**
 * JSON log lines, batched: writing to a pipe is synchronous on Linux, and a `write` per line was
 * the largest cost of accepting a connection. Lines are written together once the current burst of
 * I/O has been handled, or at once when many have piled up; `flush` writes what is pending.
 */

const maxPending = 1024

export const makeBatchedOutput = (sink: (text: string) => void) => {
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
