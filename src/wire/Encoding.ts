/**
 * How one kind of client gets the integers: the bytes an integer becomes on its wire, a whole
 * WebSocket frame or a whole event (whole, so that a replay can write several in one go). Each
 * protocol defines its encoding beside its format (`Frames.ts`, `EventStream.ts`, `socketio/`).
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
