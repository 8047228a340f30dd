/**
 * The shape of src/ that docs/architecture.md describes: folders by concern that form no import
 * circle, and files that form none either.
 */
import { assert, describe, it } from "@effect/vitest"
import { folderImports, imports } from "../support/SourceImports.js"

describe("the layout of src/", () => {
  it("has only main, App and Config at the top; everything else lives in a folder", () => {
    const top = [...imports.keys()].filter((f) => !f.includes("/")).sort()
    assert.deepStrictEqual(top, ["App.ts", "Config.ts", "main.ts"])
  })

  it("has no circle of folders, of any length", () => {
    const graph = folderImports()
    const circles: Array<string> = []
    const state = new Map<string, "visiting" | "done">()
    const visit = (folder: string, path: Array<string>) => {
      if (state.get(folder) === "done") return
      if (state.get(folder) === "visiting") return void circles.push([...path, folder].join(" -> "))
      state.set(folder, "visiting")
      for (const target of graph.get(folder) ?? []) visit(target, [...path, folder])
      state.set(folder, "done")
    }
    for (const folder of graph.keys()) visit(folder, [])
    assert.deepStrictEqual(circles, [])
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
