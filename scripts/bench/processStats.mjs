/**
 * What a server process costs, read from /proc as the kernel accounts it: CPU time of all its
 * threads (the event loop, but also GC and libuv helpers) and resident memory.
 */
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"

// /proc/<pid>/stat counts CPU in clock ticks of USER_HZ (100 on Linux; asked once in case not).
const ticksPerSecond = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100
  } catch {
    return 100
  }
})()

/** User plus system CPU time of the whole process, in milliseconds. */
export const cpuMs = (pid) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond
}

/** Resident set size in KiB (VmRSS). */
export const rssKiB = (pid) => {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
  return match === null ? NaN : Number(match[1])
}

/** The soft limit on open files of a process, or undefined when it has none. */
export const openFilesLimit = (pid = process.pid) => {
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"))
  return match === null || match[1] === "unlimited" ? undefined : Number(match[1])
}

/**
 * Busy CPU time of the whole machine (all cores, everything but idle and iowait) in ms. Less the
 * server's and the load generator's, it shows how much else ran during a window.
 */
export const machineBusyMs = () => {
  const fields = readFileSync("/proc/stat", "utf8").split("\n", 1)[0].trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal …; guest time is already inside user.
  const busy = fields.slice(0, 8).reduce((total, v, i) => (i === 3 || i === 4 ? total : total + v), 0)
  return (busy * 1000) / ticksPerSecond
}
