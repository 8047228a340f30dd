/**
 * An event-stream client on Node's own `http`, as `curl -N` reads a stream: the status, the
 * headers, and the events as they come. Closed with the scope.
 */
import { Deferred, Effect } from "effect"
import * as Http from "node:http"

export interface EventStreamClient {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  /** The whole body so far. */
  readonly text: () => string
  /** The integers of the events' ids (`<sequence>.<n>`) so far, in order. */
  readonly ids: () => Array<number>
  /** The last event's id as sent, which `EventSource` would send back as `Last-Event-ID`. */
  readonly lastId: () => string | undefined
  /** Done when the server ends the stream. */
  readonly ended: Deferred.Deferred<void>
}

export const openEventStream = (url: string, headers: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const ended = yield* Deferred.make<void>()
    let text = ""
    const response = yield* Effect.acquireRelease(
      Effect.async<Http.IncomingMessage>((resume) => {
        const request = Http.get(url, { headers: { accept: "text/event-stream", ...headers } }, (response) => {
          response.setEncoding("utf8")
          response.on("data", (chunk: string) => (text += chunk))
          response.on("end", () => Deferred.unsafeDone(ended, Effect.void))
          response.on("close", () => Deferred.unsafeDone(ended, Effect.void))
          resume(Effect.succeed(response))
        })
        request.on("error", (error) => resume(Effect.die(error)))
      }),
      (response) => Effect.sync(() => response.destroy())
    )
    return {
      status: response.statusCode ?? 0,
      headers: response.headers,
      text: () => text,
      ids: () => [...text.matchAll(/^id: [\w-]+\.(\d+)$/gm)].map((m) => Number(m[1])),
      lastId: () => [...text.matchAll(/^id: (.*)$/gm)].at(-1)?.[1],
      ended
    } satisfies EventStreamClient
  })
