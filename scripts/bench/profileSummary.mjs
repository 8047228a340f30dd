/**
 * Where a server's time went, from a V8 CPU profile (`node --cpu-prof`, which `run.mjs
 * --cpu-prof <dir>` passes to the servers): self time grouped by package (effect, ws,
 * prom-client, Node's internals, the service's own code, GC, idle) and the top functions.
 *
 *   node scripts/bench/profileSummary.mjs <file.cpuprofile or its directory> [--top 25] [--from ms --to ms]
 *
 * `--from`/`--to` keep only the samples of a measurement window, in milliseconds of the
 * machine's monotonic clock (V8 stamps its samples with that clock too); the runner prints the
 * full command, window included, for every profiled run.
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import * as Path from "node:path"
import { parseArgs } from "node:util"

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: "string", default: "25" },
    from: { type: "string", default: "-Infinity" },
    to: { type: "string", default: "Infinity" }
  }
})
if (positionals.length !== 1) {
  throw new Error("usage: profileSummary.mjs <file.cpuprofile|dir> [--top N] [--from ms --to ms]")
}

const fileOf = (path) => {
  if (!statSync(path).isDirectory()) return path
  const profiles = readdirSync(path).filter((name) => name.endsWith(".cpuprofile"))
  if (profiles.length !== 1) throw new Error(`expected one .cpuprofile in ${path}, found ${profiles.length}`)
  return Path.join(path, profiles[0])
}

const profile = JSON.parse(readFileSync(fileOf(positionals[0]), "utf8"))
const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
const [fromUs, toUs] = [Number(values.from) * 1000, Number(values.to) * 1000]

// Sample i was taken at startTime + timeDeltas[0..i] and lasted until the next one.
const selfMs = new Map()
let at = profile.startTime
for (let i = 0; i < profile.samples.length; i++) {
  at += profile.timeDeltas[i]
  if (at < fromUs || at > toUs) continue
  const delta = (profile.timeDeltas[i + 1] ?? 0) / 1000
  selfMs.set(profile.samples[i], (selfMs.get(profile.samples[i]) ?? 0) + delta)
}

const packageOf = ({ functionName, url }) => {
  if (url === "") {
    if (functionName === "(idle)") return "(idle)"
    if (functionName === "(garbage collector)") return "(garbage collector)"
    return functionName.startsWith("(") ? functionName : "(native)"
  }
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (inModules !== null) return inModules[1]
  if (url.startsWith("node:")) return "node internals"
  if (/\/dist\/.+\.js$/.test(url)) return "service (dist/)"
  return url
}

const byPackage = new Map()
const byFunction = new Map()
let total = 0
for (const [id, ms] of selfMs) {
  const { callFrame } = nodes.get(id)
  total += ms
  const pkg = packageOf(callFrame)
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms)
  const file = callFrame.url.replace(/^.*node_modules\//, "").replace(/^.*\/dist\//, "dist/")
  const key = `${callFrame.functionName || "(anonymous)"}  ${file}:${callFrame.lineNumber + 1}`
  byFunction.set(key, (byFunction.get(key) ?? 0) + ms)
}
const busy = total - (byPackage.get("(idle)") ?? 0)

const table = (entries, limit) =>
  [...entries]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, ms]) => `${ms.toFixed(0).padStart(8)} ms ${((ms / busy) * 100).toFixed(1).padStart(5)} %  ${name}`)
    .join("\n")

console.log(
  `profile: ${(total / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s not idle (shares are of that)`
)
console.log("\nself time by package:")
console.log(table([...byPackage].filter(([name]) => name !== "(idle)"), 30))
console.log(`\ntop ${values.top} functions by self time:`)
console.log(table([...byFunction].filter(([name]) => !name.startsWith("(idle)")), Number(values.top)))
