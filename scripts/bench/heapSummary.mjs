/**
 * What grew on the JS heap between two heap snapshots of a server (taken e.g. with
 * `node --heapsnapshot-signal=SIGUSR2`, before and after opening N connections): self size
 * and count by constructor or kind, divided by N to read as bytes per connection.
 *
 *   node scripts/bench/heapSummary.mjs <before.heapsnapshot> <after.heapsnapshot> [--per 10000] [--top 30]
 */
import { readFileSync } from "node:fs"
import { parseArgs } from "node:util"

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { per: { type: "string", default: "1" }, top: { type: "string", default: "30" } }
})
if (positionals.length !== 2) throw new Error("usage: heapSummary.mjs <before> <after> [--per N] [--top N]")

/** Self size and count per group ("object Foo", "closure bar", "string", …). */
const groups = (file) => {
  const { nodes, snapshot, strings } = JSON.parse(readFileSync(file, "utf8"))
  const fields = snapshot.meta.node_fields
  const types = snapshot.meta.node_types[0]
  const stride = fields.length
  const [typeAt, nameAt, sizeAt] = ["type", "name", "self_size"].map((f) => fields.indexOf(f))
  const totals = new Map()
  for (let i = 0; i < nodes.length; i += stride) {
    const type = types[nodes[i + typeAt]]
    // Strings and numbers are named by their value: group them by kind only.
    const named = type === "object" || type === "closure" || type === "native" || type === "hidden"
    const key = named ? `${type} ${strings[nodes[i + nameAt]].slice(0, 80)}` : type
    const entry = totals.get(key) ?? { size: 0, count: 0 }
    entry.size += nodes[i + sizeAt]
    entry.count++
    totals.set(key, entry)
  }
  return totals
}

const before = groups(positionals[0])
const after = groups(positionals[1])
const per = Number(values.per)
const growth = [...after]
  .map(([key, { count, size }]) => [key, size - (before.get(key)?.size ?? 0), count - (before.get(key)?.count ?? 0)])
  .sort((a, b) => b[1] - a[1])
const total = growth.reduce((sum, [, size]) => sum + size, 0)

console.log(
  `heap growth: ${(total / 1024 / 1024).toFixed(1)} MiB, ${(total / per).toFixed(0)} bytes per ${
    per === 1 ? "run" : "unit"
  }`
)
for (const [key, size, count] of growth.slice(0, Number(values.top))) {
  console.log(`${(size / per).toFixed(0).padStart(8)} B ${(count / per).toFixed(2).padStart(7)} ×  ${key}`)
}
