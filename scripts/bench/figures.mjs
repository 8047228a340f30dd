/**
 * The figures the benchmark reports, where each comes from, and their targets (those of the
 * footprint issue, which tightened the first ones). A figure is one metric of one scenario, per
 * round and server; its ratio is ours ÷ baseline within the same round, so that both sides of a
 * ratio saw the same machine load. `base` names another baseline for one figure.
 */
import { summarize } from "./statistics.mjs"

const count = (n) => n.toLocaleString("en-US")
const shape = ({ clients, intervalMs }) => `${count(clients)} clients × ${intervalMs} ms`

// `label` takes the run's settings, so that a quick run is labelled with what it measured.

export const figures = [
  {
    id: "cpu",
    scenario: "fanout",
    metric: "cpuUsPerMessage",
    label: (s) =>
      `Fan-out cost: server CPU per delivered message, ${shape(s.fanout)}, against the encode-once baseline`,
    base: "baseline-once",
    unit: "µs",
    digits: 2,
    better: "lower",
    target: { kind: "ratioAtMost", value: 0.9, text: "ratio ≤ 0.9 to encode-once" }
  },
  {
    id: "rate10",
    scenario: "fanout",
    metric: "integersPerSecond",
    label: (s) => `Integers per second, ${shape(s.fanout)} (${1000 / s.fanout.intervalMs} scheduled)`,
    unit: "/s",
    digits: 1,
    better: "higher",
    target: { kind: "ratioAtLeast", value: 1.0, text: "≥ baseline" }
  },
  {
    id: "rate20",
    scenario: "timer",
    metric: "integersPerSecond",
    label: (s) => `Integers per second, ${shape(s.timer)} (${1000 / s.timer.intervalMs} scheduled)`,
    unit: "/s",
    digits: 2,
    better: "higher",
    target: { kind: "minAtLeast", value: 49.75, text: "≥ 49.75 (99.5 % of 50) every round" }
  },
  {
    id: "p50-1k",
    scenario: "timer",
    metric: "spreadP50Ms",
    label: (s) => `Fan-out p50 (last − first client), ${shape(s.timer)}`,
    unit: "ms",
    digits: 2,
    better: "lower"
  },
  {
    id: "p99-1k",
    scenario: "timer",
    metric: "spreadP99Ms",
    label: (s) => `Fan-out p99 (last − first client), ${shape(s.timer)}`,
    unit: "ms",
    digits: 2,
    better: "lower"
  },
  {
    id: "p50-10k",
    scenario: "latency",
    metric: "spreadP50Ms",
    label: (s) => `Fan-out p50 (last − first client), ${shape(s.latency)}`,
    unit: "ms",
    digits: 1,
    better: "lower"
  },
  {
    id: "p99-10k",
    scenario: "latency",
    metric: "spreadP99Ms",
    label: (s) => `Fan-out p99 (last − first client), ${shape(s.latency)}`,
    unit: "ms",
    digits: 1,
    better: "lower",
    target: { kind: "ratioAtMost", value: 1.0, text: "ratio ≤ 1.0" }
  },
  {
    id: "mem",
    scenario: "memory",
    metric: "kibPerConnection",
    label: (s) => `Resident memory per idle connection, ${count(s.memory.clients)} clients`,
    unit: "KiB",
    digits: 2,
    better: "lower",
    target: { kind: "ratioAtMost", value: 1.1, text: "ratio ≤ 1.1" }
  },
  {
    id: "connect",
    scenario: "memory",
    metric: "connectMs",
    label: (s) => `Time to open ${count(s.memory.clients)} connections, 200 handshakes in flight per load process`,
    unit: "ms",
    digits: 0,
    better: "lower",
    target: { kind: "ratioAtMost", value: 1.3, aim: 1.1, text: "ratio ≤ 1.3 (aim ≤ 1.1), 0 failures" }
  },
  {
    id: "startup",
    scenario: "startup",
    metric: "startupMs",
    label: () => "Start-up: spawn to first accepted WebSocket",
    unit: "ms",
    digits: 0,
    better: "lower",
    // On every Node.js line measured: a deploy is a fresh instance taking a reconnect wave.
    target: { kind: "ratioAtMost", value: 1.5, text: "ratio ≤ 1.5" }
  },
  {
    id: "startup-rss",
    scenario: "startup",
    metric: "startupRssMiB",
    label: () => "Resident memory right after start (first upgrade + 0.5 s)",
    unit: "MiB",
    digits: 1,
    better: "lower",
    target: { kind: "ratioAtMost", value: 1.2, text: "ratio ≤ 1.2" }
  },
  {
    id: "wave",
    scenario: "wave",
    metric: "waveMs",
    label: (s) =>
      `Reconnect wave: SIGTERM to ${count(s.wave.clients)} clients back on a fresh instance (its start-up included)`,
    unit: "ms",
    digits: 0,
    better: "lower",
    target: { kind: "ratioAtMost", value: 1.3, text: "ratio ≤ 1.3, 0 failures" }
  },
  {
    id: "server-cpu",
    scenario: "fanout",
    metric: "serverCpuPercent",
    label: (s) => `Server CPU during the fan-out window, ${shape(s.fanout)}`,
    unit: "%",
    digits: 0,
    better: "lower"
  },
  {
    id: "load-cpu",
    scenario: "fanout",
    metric: "loadCpuPercent",
    label: () => "Load generator CPU during the same window",
    // Context for reading the other figures, not a comparison of the servers: left off the chart.
    chart: false,
    unit: "%",
    digits: 0,
    better: "lower"
  },
  {
    id: "other-cpu",
    scenario: "fanout",
    metric: "otherCpuPercent",
    label: () => "Everything else on the machine during the same window (noise)",
    // Context for reading the other figures, not a comparison of the servers: left off the chart.
    chart: false,
    unit: "%",
    digits: 0,
    better: "lower"
  }
]

/** Values of one figure for one server kind, round by round (NaN where a round has none). */
const valuesOf = (results, figure, kind) =>
  results.rounds.map((round) => round[figure.scenario]?.[kind]?.[figure.metric] ?? NaN)

/** Per-round ratios of `kind` to `base` for one figure. */
const ratiosOf = (results, figure, kind, base) => {
  const ours = valuesOf(results, figure, kind)
  const theirs = valuesOf(results, figure, figure.base ?? base)
  return ours.map((value, i) => value / theirs[i])
}

const verdict = (target, ours, ratio) => {
  if (target === undefined) return undefined
  if (target.kind === "ratioAtMost") {
    if (!Number.isFinite(ratio.median)) return "n/a"
    if (ratio.median > target.value) return "missed"
    return target.aim !== undefined && ratio.median > target.aim ? "met (aim missed)" : "met"
  }
  if (target.kind === "ratioAtLeast") {
    return Number.isFinite(ratio.median) ? (ratio.median >= target.value ? "met" : "missed") : "n/a"
  }
  return Number.isFinite(ours.min) ? (ours.min >= target.value ? "met" : "missed") : "n/a"
}

/** Every figure with data: medians and ranges for both sides, the ratio, and the verdict. */
export const tabulate = (results, kind = "ours", base = "baseline") =>
  figures
    .map((figure) => {
      const ours = summarize(valuesOf(results, figure, kind))
      const theirs = summarize(valuesOf(results, figure, figure.base ?? base))
      const perRound = ratiosOf(results, figure, kind, base)
      const ratio = summarize(perRound)
      return { figure, ours, theirs, ratio, perRound, verdict: verdict(figure.target, ours, ratio) }
    })
    .filter((row) => row.ours.count > 0 || row.theirs.count > 0)
