/**
 * Reads docs/walkthrough.md as a script: every ```sh block followed by a ```text block is a step,
 * the command and what the reader should see. Nothing in the document is written for the test;
 * the test interprets the commands a reader types (npm start, websocat, curl, npm run client) and
 * holds the server to the outputs the document shows.
 */
import { readFileSync } from "node:fs"
import { repoPath } from "./RepoPaths.js"

export interface Step {
  /** The `## N. Title` the step belongs to. */
  readonly section: string
  readonly command: string
  readonly expected: string
}

const fence = /```(\w*)\n([\s\S]*?)```/g

export const parseWalkthrough = (markdown: string): Array<Step> => {
  const steps: Array<Step> = []
  const sections = markdown.split(/^## /m).slice(1)
  for (const section of sections) {
    const title = section.slice(0, section.indexOf("\n")).trim()
    const blocks: Array<
      { readonly lang: string; readonly body: string; readonly end: number; readonly start: number }
    > = []
    for (const match of section.matchAll(fence)) {
      blocks.push({ lang: match[1]!, body: match[2]!, start: match.index, end: match.index + match[0].length })
    }
    for (let i = 0; i + 1 < blocks.length; i++) {
      const [command, output] = [blocks[i]!, blocks[i + 1]!]
      // A command block counts as a step only when its output block follows it directly.
      if (command.lang === "sh" && output.lang === "text" && section.slice(command.end, output.start).trim() === "") {
        steps.push({ section: title, command: command.body.trim(), expected: output.body.replace(/\n$/, "") })
      }
    }
  }
  return steps
}

/** The steps of docs/walkthrough.md as it is in the repository. */
export const readWalkthrough = (): Array<Step> =>
  parseWalkthrough(readFileSync(repoPath("docs/walkthrough.md"), "utf8"))

/** The integers a websocat-like step shows, or undefined when its output is something else. */
export const integerLines = (expected: string): Array<number> | undefined => {
  const lines = expected.split("\n")
  return lines.every((l) => /^\d+$/.test(l)) ? lines.map(Number) : undefined
}

/** `curl [-i] [-s] [-N] [-H 'Name: value']… URL [| grep 'pattern']`, as far as the walkthrough uses it. */
export interface CurlCommand {
  readonly url: string
  readonly includeHeaders: boolean
  readonly headers: Record<string, string>
  readonly grep: RegExp | undefined
  /** `-N`: a stream that does not end by itself; read as much as the document shows. */
  readonly stream: boolean
}

const words = (command: string): Array<string> =>
  [...command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!)

export const parseCurl = (command: string): CurlCommand | undefined => {
  const [curl, ...pipeline] = command.split("|").map((part) => part.trim())
  const args = words(curl!)
  if (args[0] !== "curl") return undefined
  const headers: Record<string, string> = {}
  let url: string | undefined
  let includeHeaders = false
  let stream = false
  for (let i = 1; i < args.length; i++) {
    const arg = args[i]!
    if (arg === "-i") includeHeaders = true
    else if (arg === "-s") continue
    else if (arg === "-N") stream = true
    else if (arg === "-H") {
      const [name, ...value] = args[++i]!.split(":")
      headers[name!.trim()] = value.join(":").trim()
    } else url = arg.startsWith("http") ? arg : `http://${arg}`
  }
  let grep: RegExp | undefined
  for (const stage of pipeline) {
    const [tool, ...rest] = words(stage)
    if (tool === "grep" && rest[0] === "-o") grep = new RegExp(rest[1]!, "g")
    else if (tool === "grep") grep = new RegExp(rest[0]!)
    else return undefined
  }
  return url === undefined ? undefined : { url, includeHeaders, headers, grep, stream }
}

/**
 * A response head as `curl -i` shows it, to compare whole: the status line, then every header,
 * name and value, in the order sent. The `Date` header's value is the reader's clock, so only the
 * header itself counts. Every other header the service sends has a fixed value.
 */
export const comparableHead = (lines: ReadonlyArray<string>): Array<string> =>
  lines.map((line) => line.replace(/^(date):.*$/i, "$1: (the time of the request)"))
