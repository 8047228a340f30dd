/**
 * Stack traces that name the source files and lines rather than the minified bundle's. The source
 * map is read when a stack trace through the bundle is first formatted, not at every start as
 * `--enable-source-maps` does (which, when on, is left to do it).
 */
import { readFileSync } from "node:fs"
import { SourceMap } from "node:module"
import { fileURLToPath } from "node:url"

/** Maps every later stack trace through the source map of `bundle` (a file: URL), `<bundle>.map`. */
export const mapStacksOf = (bundle: string): void => {
  if (process.sourceMapsEnabled) return
  // Undefined until first needed; null when there is no usable map.
  let map: SourceMap | null | undefined
  const sourceMap = () => {
    if (map === undefined) {
      try {
        map = new SourceMap(JSON.parse(readFileSync(new URL(`${bundle}.map`), "utf8")))
      } catch {
        map = null
      }
    }
    return map
  }
  // A CommonJS module's frames name its path, an ES module's its URL.
  const names = [bundle, fileURLToPath(bundle)]
  const frameText = (frame: NodeJS.CallSite): string => {
    const text = String(frame)
    const file = frame.getFileName()
    const line = frame.getLineNumber()
    const column = frame.getColumnNumber()
    if (file === null || !names.includes(file) || line === null || column === null) return text
    const entry = sourceMap()?.findEntry(line - 1, column - 1)
    if (entry === undefined || !("originalSource" in entry)) return text
    const source = fileURLToPath(new URL(entry.originalSource, bundle))
    return text.replace(
      `${file}:${line}:${column}`,
      `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`
    )
  }
  Error.prepareStackTrace = (error: unknown, frames: Array<NodeJS.CallSite>) => {
    let header: string
    try {
      header = Error.prototype.toString.call(error)
    } catch {
      header = "Error"
    }
    return header + frames.map((frame) => `\n    at ${frameText(frame)}`).join("")
  }
}
