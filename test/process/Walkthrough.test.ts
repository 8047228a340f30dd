import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect } from "effect"
import { readFileSync } from "node:fs"
import * as Http from "node:http"
import { WebSocket } from "ws"
import { ctrlC, spawnClient } from "../support/ClientProcess.js"
import { dependency } from "../support/Dependency.js"
import { ensure, eventually } from "../support/Eventually.js"
import { repoPath } from "../support/RepoPaths.js"
import { spawnService, waitForPort } from "../support/ServiceProcess.js"
import { spawnProcess } from "../support/SpawnedProcess.js"
import { comparableHead, integerLines, parseCurl, readWalkthrough, type Step } from "../support/Walkthrough.js"
import { refusedUpgrade } from "../support/WebSocketClient.js"

const pkg = JSON.parse(readFileSync(repoPath("package.json"), "utf8")) as {
  readonly name: string
  readonly version: string
  readonly scripts: Record<string, string>
}
const steps = readWalkthrough()

/** A websocat session: connects, prints what it receives, ends like Ctrl-C (no close frame). */
interface Session {
  readonly expected: ReadonlyArray<number>
  readonly received: Array<number>
  readonly done: Deferred.Deferred<void>
}

const websocat = (url: string, expected: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    const done = yield* Deferred.make<void>()
    const session: Session = { expected, received: [], done }
    const ws = new WebSocket(url)
    ws.on("message", (data) => {
      session.received.push(Number(String(data)))
      if (session.received.length === expected.length) {
        ws.terminate()
        Deferred.unsafeDone(done, Effect.void)
      }
    })
    // A refused connection prints nothing, which the comparison then reports.
    ws.on("unexpected-response", () => {
      ws.terminate()
      Deferred.unsafeDone(done, Effect.void)
    })
    ws.on("error", () => {})
    yield* Effect.addFinalizer(() => Effect.sync(() => ws.terminate()))
    return session
  })

/** What `curl` would show: the status line, the headers as sent, and the body. */
/** A response, whole, or for a stream (`enough`) as far as the reader watched it before Ctrl-C. */
const request = (url: string, headers: Record<string, string>, enough?: (body: string) => boolean) =>
  Effect.async<{ readonly head: Array<string>; readonly body: string }>((resume) => {
    const req = Http.request(url, { headers }, (res) => {
      let body = ""
      const done = () => {
        const head = [`HTTP/${res.httpVersion} ${res.statusCode} ${res.statusMessage}`]
        for (let i = 0; i < res.rawHeaders.length; i += 2) head.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`)
        resume(Effect.succeed({ head, body }))
      }
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => {
        body += chunk
        if (enough?.(body)) {
          res.destroy()
          done()
        }
      })
      res.on("end", done)
    })
    req.on("error", (error) => resume(Effect.die(error)))
    req.end()
  })

/** Runs an npm script's `node <file>` command line as a process, as `npm run` would. */
/**
 * The clients the walkthrough offers besides websocat, as the reader would run them: wscat from
 * this project's development dependencies, and Debian's python3 with its websockets package.
 */
const pythonWebsockets = dependency(
  "the walkthrough's python3 -m websockets step",
  ["/usr/lib/python3/dist-packages/websockets/__main__.py"],
  "Debian's python3-websockets is missing: install it with `apt-get install -y python3-websockets`"
)

const alternativeClient = (command: string) => {
  const wscat = /^npx wscat -c (\S+)$/.exec(command)?.[1]
  if (wscat !== undefined) return { program: repoPath("node_modules/.bin/wscat"), args: ["-c"], url: wscat }
  const python = /^python3 -m websockets (\S+)$/.exec(command)?.[1]
  if (python !== undefined) return { program: "/usr/bin/python3", args: ["-m", "websockets"], url: python }
  return undefined
}

describe("docs/walkthrough.md, run as written", () => {
  it.scopedLive("every step does what the document says", () =>
    Effect.gen(function*() {
      const [start, ...rest] = steps as [Step, ...Array<Step>]
      // `npm start` at a terminal: pretty logs. The interval is shorter than a second, to be quick,
      // but long enough for a client stopped after an integer to be gone before the next one.
      assert.strictEqual(start.command, "npm start")
      // exec: npm's PID, which a container runtime signals, passes the signal to the service.
      assert.strictEqual(pkg.scripts["start"], "exec node dist/main.cjs")
      const service = yield* spawnService({
        PORT: "0",
        HOST: "127.0.0.1",
        LOG_FORMAT: "pretty",
        FORGE_INTERVAL_MS: "300"
      })
      const port = yield* waitForPort(service)
      const normalize = (text: string) =>
        text
          .replace(/\[\d\d:\d\d:\d\d\.\d{3}\]/g, "[time]")
          // Fiber ids count what ran before: they differ between builds, and mean nothing to a reader.
          .replace(/\(#\d+\)/g, "(#fiber)")
          .replace(/listening on \S+ port \d+/g, "listening on ADDRESS port PORT")
          .replace(/(ws|http):\/\/[^/\s]+\//g, "$1://HOST/")
      assert.deepStrictEqual(
        normalize(start.expected).split("\n"),
        normalize(service.output().trim()).split("\n"),
        "the start log, npm's banner and all"
      )

      const local = (text: string) => text.replaceAll("localhost:3000", `127.0.0.1:${port}`)
      let running: Array<Session> = []
      let section = start.section
      const finishAll = Effect.gen(function*() {
        for (const session of running) {
          yield* Deferred.await(session.done).pipe(Effect.timeout(Duration.seconds(15)))
          assert.deepStrictEqual(session.received, session.expected, "the integers a client printed")
        }
        running = []
      })

      for (const step of rest) {
        const what = `${step.section}: ${step.command}`
        if (step.section !== section) {
          yield* finishAll
          section = step.section
        }
        const websocatUrl = /^websocat (\S+)$/.exec(step.command)?.[1]
        const clientUrl = /^npm run -s client -- (\S+)$/.exec(step.command)?.[1]
        const alternative = alternativeClient(step.command)
        const curl = parseCurl(step.command)
        if (websocatUrl !== undefined) {
          const integers = integerLines(step.expected)
          if (integers === undefined) {
            // A refused connection: websocat names the HTTP status.
            const status = Number(/\b([1-5]\d\d)\b/.exec(step.expected)?.[1])
            assert.strictEqual((yield* refusedUpgrade(local(websocatUrl))).status, status, what)
            continue
          }
          // A client whose integers overlap one still running was started alongside it, once that
          // one had printed the integer before; otherwise it starts after the others have ended.
          const alongside = running.find((s) => integers[0]! <= s.expected.at(-1)!)
          if (alongside === undefined) yield* finishAll
          else {
            yield* Effect.gen(function*() {
              while (!alongside.received.includes(integers[0]! - 1)) yield* Effect.sleep(Duration.millis(5))
            }).pipe(Effect.timeout(Duration.seconds(15)))
          }
          running.push(yield* websocat(local(websocatUrl), integers))
        } else if (clientUrl !== undefined) {
          yield* finishAll
          const expected = step.expected.split("\n")
          const printed = yield* Effect.gen(function*() {
            const cli = yield* spawnClient([local(clientUrl)])
            // Ctrl-C once it has printed what the document shows, unless it ended by itself first.
            yield* Effect.race(
              eventually(
                ensure(() => cli.stdout().split("\n").length > expected.length, "lines"),
                Duration.seconds(15)
              ),
              Deferred.await(cli.exited)
            )
            ctrlC(cli)
            yield* Deferred.await(cli.exited)
            return cli.stdout().trim().split("\n")
          }).pipe(Effect.scoped, Effect.timeout(Duration.seconds(15)))
          assert.deepStrictEqual(printed.slice(0, expected.length), expected, what)
        } else if (alternative !== undefined) {
          yield* finishAll
          if (alternative.program === "/usr/bin/python3") {
            if (pythonWebsockets.skip) continue
            yield* pythonWebsockets.required
          }
          // What it prints at a terminal, less the prompt: "< N" for each integer.
          const expected = step.expected.split("\n").flatMap((line) => /^< (\d+)$/.exec(line)?.[1] ?? []).map(Number)
          const printed = yield* Effect.gen(function*() {
            const client = yield* spawnProcess(alternative.program, [...alternative.args, local(alternative.url)], {
              openStdin: true
            })
            const integersPrinted = () =>
              client.stdout().replace(/\x1b(?:\[[0-9;]*[A-Za-z]|[78])/g, "").split(/\r?\n/).flatMap((line) =>
                /^(?:< )?(\d+)$/.exec(line.trim())?.[1] ?? []
              ).map(Number)
            yield* eventually(
              ensure(() => integersPrinted().length >= expected.length, `${what}: integers`),
              Duration.seconds(15)
            )
            client.kill("SIGINT")
            yield* Deferred.await(client.exited)
            return integersPrinted()
          }).pipe(Effect.scoped, Effect.timeout(Duration.seconds(20)))
          assert.deepStrictEqual(printed.slice(0, expected.length), expected, what)
        } else if (curl !== undefined) {
          yield* finishAll
          // A keep-alive comment (every 15 s, to every stream at once) may come anywhere in a
          // stream; the document shows none.
          const withoutKeepAlive = (text: string) => text.replace(/^: keep-alive\n\n/gm, "")
          const response = yield* request(
            local(curl.url),
            curl.headers,
            curl.stream ? (body) => withoutKeepAlive(body).length >= step.expected.length : undefined
          )
          if (curl.includeHeaders) {
            const [head, ...body] = step.expected.split("\n\n")
            // Every header shown and no other: one added or left out fails, as does one changed.
            assert.deepStrictEqual(comparableHead(response.head), comparableHead(head!.split("\n")), what)
            assert.strictEqual(response.body.trimEnd(), body.join("\n\n"), what)
          } else if (curl.stream) {
            // Ctrl-C after what the document shows: the stream itself goes on. Its sequence's name
            // is drawn at each start.
            const named = (text: string) => text.replace(/^id: [\w-]+\.(\d+)$/gm, "id: SEQUENCE.$1")
            const expected = named(step.expected)
            assert.strictEqual(named(withoutKeepAlive(response.body)).slice(0, expected.length), expected, what)
          } else {
            const pattern = curl.grep
            const lines = response.body.split("\n").flatMap((line) =>
              pattern === undefined
                ? [line]
                : pattern.global
                ? [...line.matchAll(pattern)].map((m) => m[0])
                : pattern.test(line)
                ? [line]
                : []
            )
            assert.strictEqual(lines.join("\n").trimEnd(), step.expected, what)
          }
        } else {
          assert.fail(`the walkthrough test does not know how to run: ${step.command}`)
        }
      }
      yield* finishAll

      // The last step: Ctrl-C in the server's terminal, which reaches npm and the service alike.
      service.killGroup("SIGINT")
      const exit = yield* Deferred.await(service.exited).pipe(Effect.timeout(Duration.seconds(10)))
      assert.deepStrictEqual(exit, { code: 0, signal: null })
    }), 120_000)
})
