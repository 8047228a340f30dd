/**
 * The shape of src/ that docs/architecture.md describes: folders by concern, which never import
 * each other in both directions, and files that form no import circle.
 */
import { assert, describe, it } from "@effect/vitest"
import { folderOf, imports } from "../support/SourceImports.js"

describe("the layout of src/", () => {
  it("has only main, App and Config at the top; everything else lives in a folder", () => {
    const top = [...imports.keys()].filter((f) => !f.includes("/")).sort()
    assert.deepStrictEqual(top, ["App.ts", "Config.ts", "main.ts"])
  })

  it("has no two folders that import each other", () => {
    const edges = new Set<string>()
    for (const [file, targets] of imports) {
      for (const target of targets) {
        // The top-level files wire (App, main) and configure (Config) every folder.
        if (folderOf(file) === "(top)" || folderOf(target) === "(top)") continue
        if (folderOf(file) !== folderOf(target)) edges.add(`${folderOf(file)} -> ${folderOf(target)}`)
      }
    }
    const both = [...edges].filter((edge) => edges.has(edge.split(" -> ").reverse().join(" -> ")))
    assert.deepStrictEqual(both, [])
  })

  it("has no import circle between files", () => {
    const state = new Map<string, "visiting" | "done">()
    const circles: Array<string> = []
    const visit = (file: string, path: Array<string>) => {
      if (state.get(file) === "done") return
      if (state.get(file) === "visiting") return void circles.push([...path, file].join(" -> "))
      state.set(file, "visiting")
      for (const target of imports.get(file) ?? []) visit(target, [...path, file])
      state.set(file, "done")
    }
    for (const file of imports.keys()) visit(file, [])
    assert.deepStrictEqual(circles, [])
  })
})
