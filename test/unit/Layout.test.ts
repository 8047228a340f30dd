/**
 * The shape of src/ that docs/architecture.md describes: folders by concern that form no import
 * circle, and files that form none either.
 */
import { assert, describe, it } from "@effect/vitest"
import { folderImports, imports } from "../support/SourceImports.js"

/** Every circle a depth-first walk of `graph` meets, as "a -> b -> a". */
const circlesIn = (graph: ReadonlyMap<string, Iterable<string>>): Array<string> => {
  const state = new Map<string, "visiting" | "done">()
  const circles: Array<string> = []
  const visit = (node: string, path: Array<string>) => {
    if (state.get(node) === "done") return
    if (state.get(node) === "visiting") return void circles.push([...path, node].join(" -> "))
    state.set(node, "visiting")
    for (const next of graph.get(node) ?? []) visit(next, [...path, node])
    state.set(node, "done")
  }
  for (const node of graph.keys()) visit(node, [])
  return circles
}

describe("the layout of src/", () => {
  it("has only main, App and Config at the top; everything else lives in a folder", () => {
    const top = [...imports.keys()].filter((f) => !f.includes("/")).sort()
    assert.deepStrictEqual(top, ["App.ts", "Config.ts", "main.ts"])
  })

  it("has no circle of folders, of any length", () => {
    assert.deepStrictEqual(circlesIn(folderImports()), [])
  })

  it("has no import circle between files", () => {
    assert.deepStrictEqual(circlesIn(imports), [])
  })
})
