/**
 * HTTP responses written as raw bytes, for the places where no HTTP framework is in between: a
 * refused upgrade on the socket the `upgrade` event hands over, and a request Node could not
 * parse. Both still say they reached the origin, as every response of the service does.
 */
import { STATUS_CODES } from "node:http"

/** Headers every response of the service carries, raw ones included. */
export const originHeaders = { "x-vip-reached-origin": "true" } as const

/**
 * On a WebSocket's 101 response, the name of the sequence it will receive (see
 * `IntegerForge.sequence`): a resuming client that is told another name than before knows the
 * sequence restarted.
 */
export const sequenceHeader = "x-forge-sequence"

/**
 * On every refusal of ours, why, as the refusal's key (`draining`, `capacity`, `origin`, …): a
 * client told `draining` knows that this instance is going away and that another one may take
 * it at once, which a bare 503 (overloaded? down?) does not say.
 */
export const refusalHeader = "x-forge-refusal"

export interface RawResponse {
  readonly status: number
  /** Sent as is; no body when absent. */
  readonly body?: string
  /** The body's type; plain text unless said otherwise. */
  readonly contentType?: string | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/** The bytes of a complete HTTP/1.1 response after which the connection closes. */
export const rawResponse = (response: RawResponse): string => {
  const body = response.body ?? ""
  const headers: Record<string, string> = {
    "Connection": "close",
    ...(body === "" ? {} : { "Content-Type": response.contentType ?? "text/plain; charset=utf-8" }),
    "Content-Length": String(Buffer.byteLength(body)),
    ...originHeaders,
    ...response.headers
  }
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("")
  return `HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? "Error"}\r\n${lines}\r\n${body}`
}
