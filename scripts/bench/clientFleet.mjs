/**
 * Many clients in one process: opened with bounded concurrency, each checking its own sequence
 * (every integer is the previous one plus 1), and one record per integer of when the first and
 * the last client of this process received it and how many did.
 */
import { MinimalWebSocket } from "./minimalWebSocket.mjs"

const increment = (counts, key) => counts.set(key, (counts.get(key) ?? 0) + 1)

export class ClientFleet {
  /**
   * `sourceAddresses`: local addresses to bind, used in turn (empty: let the kernel choose).
   * Spreading many clients over 127.0.0.x keeps each address far from running out of
   * ephemeral ports, including those still in TIME_WAIT from earlier rounds.
   */
  constructor({ handshakeTimeoutMs = 10_000, host, path, port, sourceAddresses = [] }) {
    this.target = { host, path, port, handshakeTimeoutMs }
    this.sourceAddresses = sourceAddresses
    this.started = 0
    this.clients = new Set()
    this.everOpened = 0
    this.closedByServer = new Map()
    this.malformed = 0
    // n -> [first receipt, last receipt, receivers]; the last one touched is kept at hand,
    // since the messages of one integer arrive one after another.
    this.integers = new Map()
    this.lastInteger = 0
    this.lastRecord = undefined
    this.events = {
      open: () => {},
      refused: () => {},
      failed: () => {},
      malformed: () => void this.malformed++,
      closed: (client, code) => {
        this.clients.delete(client)
        increment(this.closedByServer, String(code ?? "none"))
      },
      integer: (client, n, receivedAt) => this.onInteger(client, n, receivedAt)
    }
  }

  onInteger(client, n, receivedAt) {
    if (client.last === 0) client.first = n
    else if (n > client.last + 1) client.missing += n - client.last - 1
    else if (n <= client.last) client.repeats++
    if (n > client.last) client.last = n
    let record = n === this.lastInteger ? this.lastRecord : this.integers.get(n)
    if (record === undefined) {
      record = [receivedAt, receivedAt, 0]
      this.integers.set(n, record)
    }
    if (receivedAt < record[0]) record[0] = receivedAt
    if (receivedAt > record[1]) record[1] = receivedAt
    record[2]++
    this.lastInteger = n
    this.lastRecord = record
  }

  /**
   * Opens `count` more clients, at most `concurrency` handshakes at a time, and resolves once
   * each has opened, been refused or failed: how many of each, and how long it took.
   */
  open(count, concurrency) {
    const outcome = { opened: 0, refused: {}, failed: {}, ms: 0 }
    const refused = new Map()
    const failed = new Map()
    const startedAt = performance.now()
    return new Promise((resolve) => {
      let launched = 0
      let settled = 0
      const settle = () => {
        settled++
        if (launched < count) launch()
        else if (settled === count) {
          outcome.refused = Object.fromEntries(refused)
          outcome.failed = Object.fromEntries(failed)
          outcome.ms = performance.now() - startedAt
          resolve(outcome)
        }
      }
      const events = {
        ...this.events,
        open: (client) => {
          this.clients.add(client)
          this.everOpened++
          outcome.opened++
          settle()
        },
        refused: (_client, status) => {
          increment(refused, String(status))
          settle()
        },
        failed: (_client, reason) => {
          increment(failed, reason)
          settle()
        }
      }
      const launch = () => {
        launched++
        const localAddress = this.sourceAddresses.length === 0
          ? undefined
          : this.sourceAddresses[this.started % this.sourceAddresses.length]
        this.started++
        const client = new MinimalWebSocket({ ...this.target, localAddress, events })
        // The sequence checks' state, kept on the client itself.
        Object.assign(client, { first: 0, last: 0, missing: 0, repeats: 0 })
      }
      if (count === 0) return resolve(outcome)
      for (let i = 0; i < Math.min(count, concurrency); i++) launch()
    })
  }

  /** Everything measured so far, as plain data (it crosses process boundaries). */
  report() {
    let clientsWithGaps = 0
    let missing = 0
    let clientsWithRepeats = 0
    let repeats = 0
    let silent = 0
    let minFirst = Infinity
    let maxFirst = -Infinity
    let minLast = Infinity
    let maxLast = -Infinity
    for (const client of this.clients) {
      if (client.missing > 0) clientsWithGaps++
      if (client.repeats > 0) clientsWithRepeats++
      missing += client.missing
      repeats += client.repeats
      if (client.last === 0) {
        silent++
        continue
      }
      minFirst = Math.min(minFirst, client.first)
      maxFirst = Math.max(maxFirst, client.first)
      minLast = Math.min(minLast, client.last)
      maxLast = Math.max(maxLast, client.last)
    }
    const cpu = process.cpuUsage()
    return {
      open: this.clients.size,
      everOpened: this.everOpened,
      closedByServer: Object.fromEntries(this.closedByServer),
      clientsWithGaps,
      missing,
      clientsWithRepeats,
      repeats,
      malformed: this.malformed,
      silent,
      firstRange: [minFirst, maxFirst],
      lastRange: [minLast, maxLast],
      integers: [...this.integers].map(([n, [first, last, count]]) => [n, first, last, count]),
      cpuMs: (cpu.user + cpu.system) / 1000
    }
  }

  /** Drops every client at once. */
  destroy() {
    for (const client of this.clients) client.destroy()
    this.clients.clear()
  }
}
