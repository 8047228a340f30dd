/**
 * docs/architecture.md against the code: its folder table says which folders each folder imports
 * from, and its layer diagram is the one in src/App.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { folderImports } from "../support/SourceImports.js"

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8")
const doc = read("docs/architecture.md")

// The rows of the "Where to find what" table: `src/<folder>/` and its last column.
const documentedImports = () =>
  new Map(
    [...doc.matchAll(/^\| `src\/([a-z]+)\/` \|.*\| ([^|]+) \|$/gm)].map(([, folder, from]) => [
      folder!,
      from!.trim() === "nothing" ? [] : from!.split(",").map((f) => f.trim()).sort()
    ])
  )

// The diagram's lines, without the comment's ` * ` or the doc's indentation.
const diagramIn = (text: string) => {
  const lines = text.split("\n").map((line) => line.replace(/^ \* ?/, "").trimEnd())
  const start = lines.findIndex((line) => line.trimStart().startsWith("ForgeConfig ─▶"))
  const end = lines.findIndex((line, i) => i > start && line.trimStart().startsWith("(ServerConfig"))
  return lines.slice(start, end + 1).join("\n")
}

describe("docs/architecture.md", () => {
  it("names, for every folder of src/, exactly the folders it imports from", () => {
    const actual = new Map([...folderImports()].map(([folder, to]) => [folder, [...to].sort()]))
    assert.deepStrictEqual(
      Object.fromEntries([...documentedImports()].sort()),
      Object.fromEntries([...actual].sort())
    )
  })

  it("draws the layers as src/App.ts does", () => {
    const inApp = diagramIn(read("src/App.ts"))
    assert.include(inApp, "Connections")
    assert.strictEqual(diagramIn(doc), inApp)
  })
})
