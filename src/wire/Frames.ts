/**
 * A whole WebSocket frame as a server writes it (RFC 6455 §5.2): FIN, the text opcode, no mask,
 * the payload length in its shortest form, the payload. Built once per integer and encoding, the
 * same bytes go to every socket of that encoding, with nothing left to do per socket but the
 * write itself.
 */
import { Encoding } from "./Encoding.js"
import { plainIntegerFrame } from "./WholeNumber.js"

export const wholeTextFrame = (payload: Buffer): Buffer => {
  const length = payload.length
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10
  const frame = Buffer.allocUnsafe(headerLength + length)
  frame[0] = 0x81 // FIN, opcode 1 (text)
  if (length < 126) frame[1] = length
  else if (length < 65536) {
    frame[1] = 126
    frame.writeUInt16BE(length, 2)
  } else {
    frame[1] = 127
    frame.writeBigUInt64BE(BigInt(length), 2)
  }
  payload.copy(frame, headerLength)
  return frame
}

/** Plain WebSocket clients: each integer as its digits, in a text frame of its own. */
export const plainEncoding = new Encoding((n) => wholeTextFrame(plainIntegerFrame(n)))
