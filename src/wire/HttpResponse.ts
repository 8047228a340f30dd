/**
 * HTTP responses as raw bytes, where no HTTP framework is in between: a refused upgrade, a request
 * Node could not parse.
 */
import { STATUS_CODES } from "node:http"

/** Headers every response of the service carries, raw ones included. */
export const originHeaders = { "x-vip-reached-origin": "true" } as const

/** The sequence's name, on accepting: a resuming client told another name than before knows it restarted. */
export const sequenceHeader = "x-forge-sequence"

/**
 * On every refusal of ours, its key (`draining`, `capacity`, `origin`, …): `draining` tells a
 * client that another instance may take it at once, which a bare 503 does not.
 */
export const refusalHeader = "x-forge-refusal"

export interface RawResponse {
  readonly status: number
  readonly body?: string
  /** Plain text unless said otherwise. */
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
