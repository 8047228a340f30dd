/**
 * Requests that are not the router's to answer: the HTTP side hands them over before routing. The
 * edge provides it (event streams, which stay open and are fed by the fan-out), so that `http/`
 * need not know what takes them.
 */
import { Context } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"

export class RequestHandoff extends Context.Tag("IntegerForge/RequestHandoff")<RequestHandoff, {
  /** Whether this request is taken over, decided from its head alone. */
  readonly claims: (request: IncomingMessage) => boolean
  readonly take: (request: IncomingMessage, response: ServerResponse) => void
}>() {}
