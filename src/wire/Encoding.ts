/**
 * The bytes an integer becomes on one kind of client's wire: a whole WebSocket frame or a whole
 * event, so that a replay can write several in one go.
 */
export class Encoding {
  #n = -1
  #bytes: Buffer = Buffer.alloc(0)

  constructor(readonly encode: (n: number) => Buffer) {}

  /** `encode(n)`, made once for all the connections that get the integer `n` now. */
  bytesOf(n: number): Buffer {
    if (n !== this.#n) {
      this.#bytes = this.encode(n)
      this.#n = n
    }
    return this.#bytes
  }
}
