/**
 * The run's results as Markdown, and their place in docs/benchmarks.md: only the part between
 * the two markers is rewritten, so the prose around it (analysis, profiles) survives a re-run.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { tabulate } from "./figures.mjs"
import { serverKinds } from "./serverProcess.mjs"
import { sum, summarize } from "./statistics.mjs"

export const startMarker = "<!-- bench:results:start (written by scripts/bench/run.mjs) -->"
export const endMarker = "<!-- bench:results:end -->"

const fixed = (value, digits) => (Number.isFinite(value) ? value.toFixed(digits) : "–")

const spread = ({ max, median, min }, digits, suffix = "") =>
  Number.isFinite(median)
    ? min === max ?
      `${fixed(median, digits)}${suffix}` :
      `${fixed(median, digits)}${suffix} (${fixed(min, digits)}–${fixed(max, digits)})`
    : "–"

const figureTable = (rows, settings) => [
  `| Figure | ${serverKinds.ours.label} | ${serverKinds.baseline.label} | Ratio | Target | |`,
  "| --- | ---: | ---: | ---: | --- | --- |",
  ...rows.map(({ figure, ours, ratio, theirs, verdict }) =>
    [
      `${figure.label(settings)} (${figure.unit})`,
      spread(ours, figure.digits),
      spread(theirs, figure.digits),
      // A ratio of context figures (the load generator, the rest of the machine) means nothing.
      figure.chart === false ? "" : spread(ratio, 2, "×"),
      figure.target?.text ?? "",
      verdict ?? ""
    ].join(" | ")
  ).map((line) => `| ${line} |`)
]

const variantNotes = {
  "baseline-once":
    "encodes each integer once per tick (`BASELINE_SEND=once`: the same bytes and send options as the service)",
  "baseline-frame":
    "builds the whole frame once per tick and writes it to each TCP socket (`BASELINE_SEND=frame`: no framing per send)"
}

const variantFigures = ["cpu", "rate10", "server-cpu"]

// The fan-out figures of the baseline's variants, each next to the baseline and to ours.
const variantTable = (results, settings) => {
  const variants = Object.keys(variantNotes).filter((kind) =>
    results.rounds.some((round) => round.fanout?.[kind] !== undefined)
  )
  if (variants.length === 0) return []
  const lines = [
    "",
    "Variants of the baseline, measured in the same rounds (fan-out scenario only):",
    "",
    ...variants.map((kind) => `- ${serverKinds[kind].label}: ${variantNotes[kind]}.`),
    "",
    `| Figure | Variant | Value | Variant ÷ ws baseline | ${serverKinds.ours.label} ÷ variant |`,
    "| --- | --- | ---: | ---: | ---: |"
  ]
  for (const kind of variants) {
    const toBaseline = tabulate(results, kind, "baseline").filter((row) => variantFigures.includes(row.figure.id))
    const oursTo = tabulate(results, "ours", kind).filter((row) => variantFigures.includes(row.figure.id))
    toBaseline.forEach((row, i) => {
      lines.push(
        `| ${row.figure.label(settings)} (${row.figure.unit}) | ${serverKinds[kind].label} | ${
          spread(row.ours, row.figure.digits)
        } | ${spread(row.ratio, 2, "×")} | ${spread(oursTo[i].ratio, 2, "×")} |`
      )
    })
  }
  return lines
}

const checkedScenarios = ["fanout", "timer", "latency", "memory", "capacity"]

/** Failures and sequence errors summed over every run of a server kind: all should be 0. */
const checksTable = (results) => {
  const kinds = Object.keys(serverKinds).filter((kind) =>
    results.rounds.some((round) => checkedScenarios.some((s) => round[s]?.[kind] !== undefined))
  )
  const total = (kind, key) =>
    sum(results.rounds.flatMap((round) => checkedScenarios.map((s) => round[s]?.[kind]?.[key] ?? 0)))
  const runs = (kind) =>
    sum(results.rounds.flatMap((round) => checkedScenarios.map((s) => (round[s]?.[kind] === undefined ? 0 : 1))))
  const crashed = (kind) =>
    sum(
      results.rounds.flatMap((round) =>
        checkedScenarios.map((s) => (round[s]?.[kind]?.serverRunning === false ? 1 : 0))
      )
    )
  return [
    "| Server | Runs | Failed connections | Closed by server | Integers missed | Repeated | Incomplete integers | Server died |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...kinds.map((kind) =>
      `| ${serverKinds[kind].label} | ${runs(kind)} | ${total(kind, "failures")} | ${total(kind, "closedByServer")} | ${
        total(kind, "missing")
      } | ${total(kind, "repeats")} | ${total(kind, "incompleteIntegers")} | ${crashed(kind)} |`
    )
  ]
}

const capacityTable = (results) => {
  const runs = results.rounds.flatMap((round) =>
    Object.entries(round.capacity ?? {}).map(([kind, result]) => ({ kind, ...result }))
  )
  if (runs.length === 0) return []
  return [
    "",
    "| Server | Clients opened | Failed | Extra attempts → 503 | Missed / repeated | Integers complete | Fan-out p99 | Connect time | RSS | Still running |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...runs.map((r) =>
      `| ${serverKinds[r.kind].label} | ${
        r.opened.toLocaleString("en-US")
      } | ${r.failures} | ${r.extraRefused503} of ${r.extraAttempts}${
        r.extraOpened > 0 ? ` (${r.extraOpened} accepted)` : ""
      } | ${r.missing} / ${r.repeats} | ${r.integersInWindow - r.incompleteIntegers} of ${r.integersInWindow} | ${
        fixed(r.spreadP99Ms, 0)
      } ms | ${fixed(r.connectMs / 1000, 1)} s | ${fixed(r.rssKiB / 1024, 0)} MiB | ${r.serverRunning ? "yes" : "no"} |`
    )
  ]
}

const describeSettings = (s, scenarios) =>
  [
    `- fanout: ${s.fanout.clients} clients, \`FORGE_INTERVAL_MS=${s.fanout.intervalMs}\`, ${s.fanout.warmupMs} ms warm-up, ${s.fanout.windowMs} ms window`,
    `- timer: ${s.timer.clients} clients, \`FORGE_INTERVAL_MS=${s.timer.intervalMs}\`, ${s.timer.windowMs} ms window`,
    `- latency: ${s.latency.clients} clients, \`FORGE_INTERVAL_MS=${s.latency.intervalMs}\`, ${s.latency.windowMs} ms window`,
    `- memory: ${s.memory.clients} idle clients (forge interval one hour) after 20 warm-up clients`,
    `- capacity: \`MAX_CONNECTIONS=${s.capacity.clients}\`, ${s.capacity.clients} clients + ${s.capacity.extra} beyond, \`FORGE_INTERVAL_MS=${s.capacity.intervalMs}\`, ${s.capacity.windowMs} ms window`,
    `- startup: ${s.startup.starts} start${s.startup.starts === 1 ? "" : "s"} of each server per round, alternating`
  ].filter((line) => scenarios.some((scenario) => line.startsWith(`- ${scenario}:`)))

/** One Node.js line's results: machine, command, tables, chart. */
const resultsBody = ({ chartLink, results }) => {
  const { command, machine, service, settings } = results
  const rows = tabulate(results)
  const roundsRun = results.rounds.length
  return [
    `Run of ${results.finishedAt.slice(0, 10)}, ${roundsRun} round${roundsRun === 1 ? "" : "s"} (${
      summarize([results.durationMs / 60000]).median.toFixed(1)
    } min), servers alternating within each round.`,
    "",
    `- Machine: ${machine}`,
    `- Service: ${service}`,
    `- Command: \`${command}\``,
    ...describeSettings(settings, results.scenarios),
    "",
    "Median over rounds (min–max); the ratio is ours ÷ baseline per round, so both sides of each ratio",
    "ran under the same conditions.",
    "",
    ...figureTable(rows, settings),
    ...variantTable(results, settings),
    "",
    ...(chartLink === undefined ? [] : [`![Integer Forge relative to the ws baseline](${chartLink})`, ""]),
    "Correctness over every run (each client checks that every integer is the previous one plus 1):",
    "",
    ...checksTable(results),
    ...capacityTable(results)
  ]
}

/** The label of a run's Node.js line, as the servers ran it ("Node.js v26.10.0"). */
export const lineLabel = (results) => `Node.js ${results.node?.version ?? "of the runner"}`

// Each figure's ratio on every line, in one table, for the lines measured in one run.
const sideBySide = (lines) => {
  const tables = lines.map((results) => tabulate(results))
  const ids = [...new Set(tables.flatMap((rows) => rows.map((row) => row.figure.id)))]
  return [
    "Ratios (ours ÷ baseline, median over rounds) on each Node.js line of this run, side by side; the",
    "sections below give each line's figures.",
    "",
    `| Figure | ${lines.map(lineLabel).join(" | ")} |`,
    `| --- |${lines.map(() => " ---: |").join("")}`,
    ...ids.flatMap((id) => {
      const rows = tables.map((table) => table.find((row) => row.figure.id === id))
      const first = rows.find((row) => row !== undefined)
      if (first.figure.chart === false) return []
      const cells = rows.map((row) =>
        row === undefined
          ? "–"
          : `${spread(row.ratio, 2, "×")}${row.verdict === undefined ? "" : ` ${row.verdict}`}`
      )
      return [`| ${first.figure.label(lines[0].settings)} (${first.figure.unit}) | ${cells.join(" | ")} |`]
    })
  ]
}

/**
 * The generated section, between its markers: one Node.js line's results, or several lines'
 * side by side and then each in a section of its own. `chartLinks` has one link per line.
 */
export const resultsSection = ({ chartLinks, lines }) =>
  [
    startMarker,
    "",
    ...(lines.length === 1
      ? resultsBody({ chartLink: chartLinks[0], results: lines[0] })
      : [
        ...sideBySide(lines),
        ...lines.flatMap((results, i) => [
          "",
          `### ${lineLabel(results)}`,
          "",
          ...resultsBody({ chartLink: chartLinks[i], results })
        ])
      ]),
    "",
    endMarker
  ].join("\n")

const template = (section) =>
  [
    "# Benchmarks",
    "",
    "Written by `npm run bench` (scripts/bench/run.mjs).",
    "",
    section,
    ""
  ].join("\n")

/** Writes the section into `path`, between the markers if the file has them. */
export const writeResults = (path, section) => {
  if (!existsSync(path)) return writeFileSync(path, template(section))
  const current = readFileSync(path, "utf8")
  const start = current.indexOf(startMarker)
  const end = current.indexOf(endMarker)
  if (start < 0 || end < start) return writeFileSync(path, `${current.trimEnd()}\n\n${section}\n`)
  writeFileSync(path, current.slice(0, start) + section + current.slice(end + endMarker.length))
}
