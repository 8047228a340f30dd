/**
 * A client for the service that reconnects by itself, for Node.js programs: the integers as an
 * Effect `Stream`, across deploys, network drops and server restarts. Each reconnect resumes
 * (`?since=`, `?sequence=`) and follows `ReconnectPolicy`; interrupting the stream closes the
 * socket with 1000 and stops.
 */
import { Data, Duration, Effect, Option, Random, Stream } from "effect"
import { WebSocket } from "ws"
import { refusalHeader } from "../wire/HttpResponse.js"
import { announcedSequence, resumeParams } from "../wire/ResumePoint.js"
import { parseWholeNumber } from "../wire/WholeNumber.js"
import { decide, defaultPolicy, type Ending, initialRetryState, type ReconnectPolicy } from "./ReconnectPolicy.js"

/** The URL is not a ws://, wss://, http:// or https:// URL. */
export class InvalidUrl extends Data.TaggedError("InvalidUrl")<{ readonly url: string }> {
  override get message() {
    return `Not a ws://, wss://, http:// or https:// URL: ${this.url}`
  }
}

/** The server refused the handshake with a status that retrying will not change. */
export class Refused extends Data.TaggedError("Refused")<{ readonly status: number; readonly body: string }> {
  override get message() {
    return `The server refused the connection: HTTP ${this.status}${this.body === "" ? "" : `: ${this.body}`}`
  }
}

/** The server closed the connection with a code that means "do not come back". */
export class ClosedForGood
  extends Data.TaggedError("ClosedForGood")<{ readonly code: number; readonly reason: string }>
{
  override get message() {
    return `The server closed the connection for good: ${this.code}${this.reason === "" ? "" : ` ${this.reason}`}`
  }
}

export type ClientError = InvalidUrl | Refused | ClosedForGood

export type ClientEvent =
  | { readonly _tag: "Connected"; readonly url: string }
  | { readonly _tag: "Integer"; readonly value: number }
  /** The connection ended (or could not be made) and the client will try again after `delayMs`. */
  | { readonly _tag: "Reconnecting"; readonly why: string; readonly delayMs: number }
  /**
   * After a reconnect, the service's sequence is not the one `lastSeen` came from: it started
   * over. The integers that follow are the new one's, and may repeat numbers already seen.
   */
  | { readonly _tag: "SequenceRestarted"; readonly lastSeen: number }

export interface ClientOptions {
  readonly policy?: ReconnectPolicy
}

// How an attempt ended: the policy's `Ending`, with what the client says of it.
type Outcome =
  | Extract<Ending, { _tag: "Closed" }> & { readonly reason: string }
  | Extract<Ending, { _tag: "Refused" }> & { readonly body: string }
  | { readonly _tag: "Failed"; readonly message: string }

// The same server by either name: an http: URL is where its WebSocket is, as ws:.
const schemes: Record<string, string> = { "ws:": "ws:", "wss:": "wss:", "http:": "ws:", "https:": "wss:" }

const parseUrl = (url: string): Effect.Effect<URL, InvalidUrl> =>
  Effect.try({ try: () => new URL(url), catch: () => new InvalidUrl({ url }) }).pipe(
    Effect.filterOrFail((u) => Object.hasOwn(schemes, u.protocol), () => new InvalidUrl({ url })),
    Effect.map((u) => new URL(schemes[u.protocol]! + u.href.slice(u.protocol.length)))
  )

const withResume = (url: URL, since: number | undefined, sequence: string | undefined): string => {
  const next = new URL(url.href)
  for (const [name, value] of Object.entries(resumeParams(since, sequence))) next.searchParams.set(name, value)
  return next.href
}

/** Ends a socket with 1000 when it is open, and waits (a bounded while) for it to be closed. */
const closeNormally = (ws: WebSocket) =>
  Effect.async<void>((resume) => {
    if (ws.readyState === WebSocket.CLOSED) return resume(Effect.void)
    ws.once("close", () => resume(Effect.void))
    if (ws.readyState === WebSocket.OPEN) ws.close(1000)
    else ws.terminate()
  }).pipe(
    Effect.timeoutTo({
      duration: Duration.seconds(1),
      onTimeout: () => ws.terminate(),
      onSuccess: () => {}
    })
  )

/** One connection, from the handshake to the close. */
const connectOnce = (
  url: string,
  onOpen: () => void,
  onSequence: (sequence: string) => void,
  onInteger: (n: number) => void
) =>
  Effect.async<Outcome>((resume) => {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    let opened = false
    let delivered = false
    let refused = false
    // The first outcome is the one: `resume` ignores later calls.
    const finish = (outcome: Outcome) => resume(Effect.succeed(outcome))
    ws.on("open", () => {
      opened = true
      onOpen()
    })
    ws.on("message", (data, isBinary) => {
      if (isBinary) return
      const text = String(data)
      const n = parseWholeNumber(text)
      if (n === undefined) {
        const sequence = announcedSequence(text)
        if (sequence !== undefined) onSequence(sequence)
        return
      }
      delivered = true
      onInteger(n)
    })
    ws.on("unexpected-response", (_request, response) => {
      // The answer is the response; the socket's own error and close that follow are not news.
      refused = true
      let body = ""
      response.setEncoding("utf8")
      response.on("data", (chunk: string) => (body += chunk).length > 1000 && response.destroy())
      // The service says so when this instance is going away (and another may take the client).
      const draining = response.headers[refusalHeader] === "draining"
      response.on("close", () =>
        finish({ _tag: "Refused", status: response.statusCode ?? 0, body: body.trim(), draining }))
      ws.terminate()
    })
    ws.on("error", (error) => {
      if (!opened && !refused) {
        finish({ _tag: "Failed", message: error.message })
      }
    })
    ws.on("close", (code, reason) => {
      if (refused) {
        return
      }
      finish(
        opened
          ? { _tag: "Closed", code, reason: String(reason), delivered }
          : { _tag: "Failed", message: `closed before opening (${code})` }
      )
    })
    return closeNormally(ws)
  })

// Only a refusal or a close can say "do not come back".
const stopped = (outcome: Outcome): ClientError =>
  outcome._tag === "Refused"
    ? new Refused({ status: outcome.status, body: outcome.body })
    : new ClosedForGood(
      outcome._tag === "Closed" ? { code: outcome.code, reason: outcome.reason } : { code: 0, reason: "" }
    )

const describe = (outcome: Outcome): string => {
  switch (outcome._tag) {
    case "Closed":
      return `closed with ${outcome.code}${outcome.reason === "" ? "" : ` (${outcome.reason})`}`
    case "Refused":
      return `refused with HTTP ${outcome.status}${outcome.draining ? " (draining)" : ""}`
    case "Failed":
      return `unreachable: ${outcome.message}`
  }
}

/** Everything the client goes through: connections, integers, reconnects. */
export const events = (url: string, options: ClientOptions = {}): Stream.Stream<ClientEvent, ClientError> =>
  Stream.asyncScoped<ClientEvent, ClientError>((emit) =>
    Effect.gen(function*() {
      const policy = options.policy ?? defaultPolicy
      const target = yield* parseUrl(url)
      let last: number | undefined
      let retry = initialRetryState
      // The name of the sequence `last` belongs to, as the server announced it.
      let sequence: string | undefined
      yield* Effect.gen(function*() {
        while (true) {
          const href = withResume(target, last, sequence)
          const outcome = yield* connectOnce(
            href,
            () => void emit.single({ _tag: "Connected", url: href }),
            (named) => {
              if (last !== undefined && sequence !== undefined && named !== sequence) {
                void emit.single({ _tag: "SequenceRestarted", lastSeen: last })
                last = undefined
              }
              sequence = named
            },
            (n) => {
              // Within one sequence an integer at or below the last one is a repeat (an instance
              // that is a moment behind the others): never handed on.
              if (last !== undefined && n <= last) return
              last = n
              void emit.single({ _tag: "Integer", value: n })
            }
          )
          const decision = decide(retry, outcome, yield* Random.next, policy)
          if (decision._tag === "Stop") return yield* stopped(outcome)
          retry = decision.state
          const { delayMs } = decision
          yield* Effect.promise(() => emit.single({ _tag: "Reconnecting", why: describe(outcome), delayMs }))
          yield* Effect.sleep(Duration.millis(delayMs))
        }
      }).pipe(
        Effect.catchAll((error) => Effect.promise(() => emit.fail(error))),
        Effect.forkScoped
      )
    })
  )

/** The integers, across reconnects. */
export const integers = (url: string, options: ClientOptions = {}): Stream.Stream<number, ClientError> =>
  events(url, options).pipe(
    Stream.filterMap((event) => event._tag === "Integer" ? Option.some(event.value) : Option.none())
  )
