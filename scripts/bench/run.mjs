/**
 * The benchmark runner (`npm run bench`): Integer Forge against the ws baseline, several rounds,
 * the two servers alternating within each round (and swapping who goes first every round), so
 * that every ratio compares runs made under the same conditions. Writes the figures into
 * docs/benchmarks.md and the chart into docs/benchmarks.svg.
 *
 *   npm run bench                          full run, about 8 minutes on 2 cores
 *   npm run bench -- --quick               fewer clients, shorter windows, 2 rounds (2–3 min)
 *   npm run bench -- --only fanout,memory  some scenarios (fanout timer latency memory capacity startup wave)
 *   npm run bench -- --rounds 5 --no-write --json /tmp/bench.json
 *   npm run bench -- --quiet-budget 0      never wait for other work on the machine to calm down
 *   npm run bench -- --from-json /tmp/bench.json   rewrite the document and chart from saved results
 *   npm run bench -- --service ../other-build/dist/main.cjs   measure another build of the service
 *   npm run bench -- --node 26             the servers on another Node.js: a path to its binary, a
 *                                          version that scripts/node-runtime.sh pins (22, 24, 26;
 *                                          installed on first use) or "machine" (the runner's own)
 *   npm run bench -- --node machine,26     several Node.js lines, one after the other, reported
 *                                          side by side (the default, but for --smoke: machine)
 *   npm run bench -- --only fanout --variants once,frame   also the baseline's variants (default: once)
 *   npm run bench -- --only fanout --cpu-prof /tmp/prof       profile the servers (figures not written;
 *                                                            summarise with profileSummary.mjs)
 *
 * The servers bind 127.0.0.1 and the load generator connects from 127.0.0.0/8 only.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { tabulate } from "./figures.mjs"
import { lineLabel, resultsSection, writeResults } from "./markdownReport.mjs"
import { openFilesLimit } from "./processStats.mjs"
import { quietBudget } from "./quietMachine.mjs"
import { ratioChart } from "./ratioChart.mjs"
import { measureReconnectWave } from "./reconnectWave.mjs"
import { combineRuns, measureCapacity, measureMemory, measureStartup, measureStream, warmStart } from "./scenarios.mjs"
import { defaultService, killRunningServers, serverKinds } from "./serverProcess.mjs"
import { median } from "./statistics.mjs"

const repoRoot = fileURLToPath(new URL("../../", import.meta.url))

const presets = {
  full: {
    rounds: 3,
    // The figure with the tightest target runs twice per round, in A B B A order, so that a load
    // that builds up or fades during the round weighs on both servers alike.
    fanout: { clients: 1000, intervalMs: 10, warmupMs: 1000, windowMs: 4000, settleMs: 1000, repeats: 2 },
    timer: { clients: 1000, intervalMs: 20, warmupMs: 1000, windowMs: 10_000, settleMs: 1000 },
    latency: { clients: 10_000, intervalMs: 250, warmupMs: 2000, windowMs: 20_000, settleMs: 1000 },
    memory: { clients: 10_000, settleMs: 2000 },
    // 20,000 descriptors minus the service's margin of 500: the most it can hold here.
    capacity: { clients: 19_500, extra: 100, intervalMs: 500, windowMs: 4000 },
    startup: { starts: 5 },
    wave: { clients: 5000 }
  },
  quick: {
    rounds: 2,
    fanout: { clients: 300, intervalMs: 10, warmupMs: 1000, windowMs: 2000, settleMs: 500, repeats: 2 },
    timer: { clients: 300, intervalMs: 20, warmupMs: 500, windowMs: 3000, settleMs: 500 },
    latency: { clients: 2000, intervalMs: 250, warmupMs: 1000, windowMs: 5000, settleMs: 500 },
    memory: { clients: 2000, settleMs: 1000 },
    capacity: { clients: 3000, extra: 20, intervalMs: 500, windowMs: 2000 },
    startup: { starts: 2 },
    wave: { clients: 1000 }
  },
  // For the test suite: proves the harness still works end to end, measures nothing worth keeping.
  smoke: {
    rounds: 1,
    fanout: { clients: 3, intervalMs: 10, warmupMs: 200, windowMs: 500, settleMs: 300 },
    timer: { clients: 3, intervalMs: 20, warmupMs: 200, windowMs: 500, settleMs: 100 },
    latency: { clients: 3, intervalMs: 250, warmupMs: 200, windowMs: 600, settleMs: 300 },
    memory: { clients: 3, settleMs: 200 },
    capacity: { clients: 3, extra: 1, intervalMs: 100, windowMs: 500 },
    startup: { starts: 1 },
    wave: { clients: 3 }
  }
}

const allScenarios = ["startup", "fanout", "timer", "latency", "memory", "capacity", "wave"]

const { values: options } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    smoke: { type: "boolean", default: false },
    rounds: { type: "string" },
    only: { type: "string" },
    "capacity-every-round": { type: "boolean", default: false },
    variants: { type: "string" },
    service: { type: "string" },
    out: { type: "string" },
    chart: { type: "string" },
    json: { type: "string" },
    "no-write": { type: "boolean", default: false },
    "cpu-prof": { type: "string" },
    node: { type: "string" },
    "quiet-budget": { type: "string" },
    "from-json": { type: "string" }
  }
})

const preset = options.smoke ? "smoke" : options.quick ? "quick" : "full"
const settings = structuredClone(presets[preset])
const rounds = options.rounds === undefined ? settings.rounds : Number(options.rounds)
const scenarios = options.only === undefined
  ? options.smoke ? ["fanout"] : allScenarios
  : options.only.split(",").map((s) => s.trim())
for (const scenario of scenarios) {
  if (!allScenarios.includes(scenario)) throw new Error(`unknown scenario ${scenario}; known: ${allScenarios}`)
}
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) throw new Error("--rounds must be from 1 to 50")
const service = Path.resolve(options.service ?? defaultService)
// The platform's lines: the machine's own Node.js and the Active LTS, unless told otherwise.
const nodeLines = (options.node ?? (options.smoke ? "machine" : "machine,26")).split(",").map((entry) => entry.trim())
const profileDir = options["cpu-prof"] === undefined ? undefined : Path.resolve(options["cpu-prof"])
// Profiled servers run slower: such figures must not replace the committed ones.
const write = !options["no-write"] && profileDir === undefined && (!options.smoke || options.out !== undefined)
const outFile = Path.resolve(options.out ?? Path.join(repoRoot, "docs", "benchmarks.md"))
const chartFile = Path.resolve(options.chart ?? Path.join(Path.dirname(outFile), "benchmarks.svg"))
if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true })

const log = (line) => process.stderr.write(`${line}\n`)
const shortNumber = (value) =>
  typeof value === "number" ? (Number.isInteger(value) ? String(value) : value.toFixed(2)) : JSON.stringify(value)
const summaryLine = (result) =>
  Object.entries(result)
    .filter(([key]) =>
      [
        "opened",
        "failures",
        "cpuUsPerMessage",
        "integersPerSecond",
        "spreadP50Ms",
        "spreadP99Ms",
        "kibPerConnection",
        "startupMs",
        "missing",
        "repeats",
        "extraRefused503",
        "serverCpuPercent",
        "loadCpuPercent",
        "otherCpuPercent",
        "failureReasons",
        "error"
      ].includes(key)
    )
    .filter(([, value]) => typeof value !== "object" || Object.keys(value).length > 0)
    .map(([key, value]) => `${key}=${shortNumber(value)}`)
    .join(" ")

// Variants of the baseline run in the fan-out scenario only, where they show what each part
// of sending costs; "none" runs just the two servers.
const variants = (options.variants ?? (options.smoke ? "none" : "once")).split(",").map((v) => v.trim())
  .filter((v) => v !== "none").map((v) => `baseline-${v}`)
for (const kind of variants) if (serverKinds[kind] === undefined) throw new Error(`unknown variant ${kind}`)

const kindsOf = (scenario) => scenario === "fanout" ? ["ours", "baseline", ...variants] : ["ours", "baseline"]

let profiledRuns = 0
const profileCommands = []

/**
 * The Node.js binary of an entry of --node, and its version: "machine" is this process's, a
 * version pinned by scripts/node-runtime.sh is installed by it if need be, anything else is a path.
 */
const resolveNode = (entry) => {
  const bin = entry === "machine"
    ? process.execPath
    : /^\d+(\.\d+\.\d+)?$/.test(entry)
    ? Path.join(
      execFileSync("bash", [Path.join(repoRoot, "scripts", "node-runtime.sh"), entry], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"]
      }).trim(),
      "node"
    )
    : Path.resolve(entry)
  const version = execFileSync(bin, ["--version"], { encoding: "utf8" }).trim()
  return { bin, version }
}

const measure = async (scenario, kind, node) => {
  // One directory per run, so that each profile can be matched with its window.
  const runProfileDir = profileDir === undefined
    ? undefined
    : Path.join(profileDir, scenario, kind, String(++profiledRuns))
  const nodeArgs = runProfileDir === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", runProfileDir]
  const result = await measureIn(scenario, { kind, service, node: node.bin, nodeArgs })
  if (runProfileDir !== undefined && result?.windowFromMs !== undefined) {
    profileCommands.push(
      `node scripts/bench/profileSummary.mjs ${runProfileDir} --from ${result.windowFromMs.toFixed(0)} --to ${
        result.windowToMs.toFixed(0)
      }`
    )
  }
  return result
}

const measureIn = (scenario, common) => {
  switch (scenario) {
    case "fanout":
      return measureStream({ ...common, ...settings.fanout })
    case "wave":
      return measureReconnectWave({ ...common, ...settings.wave })
    case "timer":
      return measureStream({ ...common, ...settings.timer })
    case "latency":
      return measureStream({ ...common, ...settings.latency })
    case "memory":
      return measureMemory({ ...common, ...settings.memory })
    case "capacity":
      return measureCapacity({ ...common, ...settings.capacity })
  }
}

/** Start-up is quick and noisy: several starts per round, alternating, and their median. */
const measureStartups = async (kinds, node) => {
  for (const kind of kinds) await warmStart({ kind, node: node.bin, service })
  const samples = Object.fromEntries(kinds.map((kind) => [kind, []]))
  for (let i = 0; i < settings.startup.starts; i++) {
    for (const kind of kinds) samples[kind].push(await measureStartup({ kind, node: node.bin, service }))
  }
  return Object.fromEntries(kinds.map((kind) => [kind, {
    startupMs: median(samples[kind].map((s) => s.startupMs)),
    startupRssMiB: median(samples[kind].map((s) => s.startupRssMiB)),
    samples: samples[kind].map((s) => s.startupMs)
  }]))
}

const describeMachine = (node) => {
  const cpus = Os.cpus()
  const gib = (Os.totalmem() / 1024 ** 3).toFixed(1)
  const runner = node.version === process.version ? "" : ` (load generator on ${process.version})`
  return `${cpus.length} cores (${cpus[0]?.model.trim() ?? "unknown CPU"}), ${gib} GiB RAM, Linux ${Os.release()}, ` +
    `servers on Node ${node.version}${runner}, open-files limit ${openFilesLimit() ?? "unlimited"}; ` +
    `load generator and servers share the cores, other work ran alongside`
}

const describeService = () => {
  const inRepo = !Path.relative(repoRoot, service).startsWith("..")
  let commit = "unknown commit"
  try {
    commit = execFileSync("git", ["-C", Path.dirname(service), "rev-parse", "--short", "HEAD"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"]
    }).trim()
  } catch {
    // Not in a git checkout: the commit stays unknown.
  }
  if (inRepo) {
    return `\`${Path.relative(repoRoot, service)}\` of this checkout (HEAD ${commit}, built from the working tree)`
  }
  return commit === "unknown commit"
    ? `\`${Path.basename(service)}\` outside this repository`
    : `\`dist/main.cjs\` of a clean clone at commit ${commit}, built with \`npm ci && npm run build\``
}

// The command as typed, minus this machine's paths.
const describeCommand = () => {
  const args = process.argv.slice(2).map((arg) =>
    Path.isAbsolute(arg)
      ? `<${Path.relative(repoRoot, arg).startsWith("..") ? "elsewhere" : "repo"}>/${Path.basename(arg)}`
      : arg
  )
  const viaNpm = process.env["npm_lifecycle_event"] === "bench"
  return viaNpm
    ? `npm run bench${args.length > 0 ? ` -- ${args.join(" ")}` : ""}`
    : `node scripts/bench/run.mjs ${args.join(" ")}`.trim()
}

// Stopped from outside (Ctrl-C, a test's cleanup): the servers go too. The load workers exit
// by themselves when their IPC channel to this process closes.
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    killRunningServers()
    process.exit(130)
  })
}

// Before each measurement, wait for the rest of the machine to calm down: at most 20 s each,
// 3 minutes over the run by default (--quiet-budget <seconds>; 0 never waits).
const quiet = quietBudget(
  (options["quiet-budget"] === undefined ? (options.smoke ? 0 : 180) : Number(options["quiet-budget"])) * 1000
)

const measureAll = async (node) => {
  const startedAt = Date.now()
  // What the report says about the run is fixed now, while it is true.
  const results = {
    preset,
    settings,
    scenarios,
    rounds: /** @type {any[]} */ ([]),
    errors: /** @type {any[]} */ ([]),
    node: { version: node.version },
    machine: describeMachine(node),
    service: describeService(),
    command: describeCommand()
  }
  log(
    `bench: ${preset} preset, ${rounds} round(s), scenarios ${
      scenarios.join(", ")
    }; servers on Node ${node.version}; service ${results.service}`
  )

  for (let round = 0; round < rounds; round++) {
    const roundResults = {}
    results.rounds.push(roundResults)
    for (const scenario of scenarios) {
      if (scenario === "capacity" && round > 0 && !options["capacity-every-round"]) continue
      const kinds = round % 2 === 0 ? kindsOf(scenario) : [...kindsOf(scenario)].reverse()
      if (scenario === "startup") {
        await quiet()
        roundResults.startup = await measureStartups(kinds, node)
        for (const kind of kinds) log(`round ${round + 1} startup ${kind}: ${summaryLine(roundResults.startup[kind])}`)
        continue
      }
      const sequence = settings[scenario].repeats === 2 ? [...kinds, ...[...kinds].reverse()] : kinds
      const runs = Object.fromEntries(kinds.map((kind) => [kind, /** @type {any[]} */ ([])]))
      for (const kind of sequence) {
        let result
        const { busyPercent, waitedMs } = await quiet()
        if (waitedMs > 1000) {
          log(`waited ${(waitedMs / 1000).toFixed(0)} s for a quieter machine (${busyPercent.toFixed(0)} % busy)`)
        }
        try {
          result = await measure(scenario, kind, node)
        } catch (error) {
          results.errors.push({ round, scenario, kind, error: String(error instanceof Error ? error.stack : error) })
          result = { error: String(error instanceof Error ? error.message : error) }
        }
        runs[kind].push(result)
        log(`round ${round + 1} ${scenario} ${kind}: ${summaryLine(result)}`)
      }
      roundResults[scenario] = Object.fromEntries(kinds.map((kind) => [kind, combineRuns(runs[kind])]))
    }
  }

  results.durationMs = Date.now() - startedAt
  results.finishedAt = new Date().toISOString()
  return results
}

// --from-json renders the Markdown and the charts again from the results of an earlier run
// (saved with --json), measuring nothing: for changes to the report itself. A file holds one
// result per Node.js line ({ lines }); an older one, a single result.
const lines = []
if (options["from-json"] === undefined) {
  for (const entry of nodeLines) lines.push(await measureAll(resolveNode(entry)))
} else {
  const saved = JSON.parse(readFileSync(options["from-json"], "utf8"))
  lines.push(...(saved.lines ?? [saved]))
}

for (const results of lines) {
  for (const row of tabulate(results)) {
    const ratio = Number.isFinite(row.ratio.median) && row.figure.chart !== false
      ? `${row.ratio.median.toFixed(2)}×`
      : "–"
    log(
      `${lineLabel(results)}: ${row.figure.label(results.settings)}: ours ${
        row.ours.median.toFixed(row.figure.digits)
      } ${row.figure.unit}, baseline ${
        row.theirs.median.toFixed(row.figure.digits)
      } ${row.figure.unit}, ratio ${ratio}${row.verdict === undefined ? "" : ` — ${row.verdict}`}`
    )
  }
}

// The first line's chart is chartFile; each further line's goes beside it, named after its major.
const chartFileOf = (results, i) =>
  i === 0
    ? chartFile
    : chartFile.replace(/(\.svg)?$/, `-node${String(results.node?.version ?? i).replace(/^v(\d+).*$/, "$1")}.svg`)

if (write) {
  mkdirSync(Path.dirname(outFile), { recursive: true })
  mkdirSync(Path.dirname(chartFile), { recursive: true })
  const chartLinks = lines.map((results, i) => {
    const file = chartFileOf(results, i)
    const roundCount = results.rounds.length
    const subtitle = `${results.machine.split(";")[0]}; ${roundCount} round${roundCount === 1 ? "" : "s"}, ${
      results.finishedAt.slice(0, 10)
    }`
    writeFileSync(file, ratioChart(tabulate(results), results.settings, subtitle))
    return Path.relative(Path.dirname(outFile), file).split(Path.sep).join("/")
  })
  writeResults(outFile, resultsSection({ chartLinks, lines }))
  log(`bench: wrote ${Path.relative(process.cwd(), outFile)} and ${chartLinks.join(", ")}`)
}
if (options.json !== undefined && options["from-json"] === undefined) {
  writeFileSync(options.json, JSON.stringify(lines.length === 1 ? lines[0] : { lines }, null, 2))
}
if (profileDir !== undefined) {
  log(`bench: CPU profiles under ${profileDir}/<scenario>/<server kind>/<run>/; their measurement windows:`)
  for (const command of profileCommands) log(`  ${command}`)
}
const errors = lines.flatMap((results) => results.errors.map((error) => ({ ...error, line: lineLabel(results) })))
for (const { error, kind, line, round, scenario } of errors) {
  log(`error on ${line} in round ${round + 1} ${scenario} ${kind}: ${error}`)
}
// One line on stdout for scripts (the smoke test reads it): where results went, and errors.
process.stdout.write(
  `${
    JSON.stringify({
      preset: lines[0].preset,
      lines: lines.map((results) => results.node?.version),
      rounds: lines[0].rounds.length,
      errors: errors.length,
      durationMs: lines.reduce((total, results) => total + results.durationMs, 0)
    })
  }\n`
)
process.exitCode = errors.length === 0 ? 0 : 1
