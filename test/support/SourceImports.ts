/**
 * Every relative import of every file under src/, read from the sources, for the tests that hold
 * the layout and its description to the code.
 */
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, normalize, relative } from "node:path"
import { fileURLToPath } from "node:url"

const src = fileURLToPath(new URL("../../src", import.meta.url))

const files = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : []
  )

/** Each file under src/ (relative to it), with the files it imports (relative to src/ too). */
export const imports: ReadonlyMap<string, ReadonlyArray<string>> = new Map(
  files(src).map((file) => {
    const text = readFileSync(file, "utf8")
    const targets = [...text.matchAll(/from "(\.{1,2}\/[^"]+)\.js"/g)].map((m) =>
      relative(src, normalize(join(dirname(file), m[1]! + ".ts")))
    )
    return [relative(src, file), targets] as const
  })
)

/** The folder of a file under src/, or "(top)" for main, App and Config. */
export const folderOf = (file: string) => file.includes("/") ? file.split("/")[0]! : "(top)"

/** Which folders each folder imports from, the top-level files left out on both sides. */
export const folderImports = (): Map<string, Set<string>> => {
  const edges = new Map<string, Set<string>>()
  for (const [file, targets] of imports) {
    const from = folderOf(file)
    if (from === "(top)") continue
    if (!edges.has(from)) edges.set(from, new Set())
    for (const target of targets) {
      const to = folderOf(target)
      if (to !== "(top)" && to !== from) edges.get(from)!.add(to)
    }
  }
  return edges
}
