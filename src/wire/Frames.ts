/**
 * A whole WebSocket text frame as a server writes it (RFC 6455 §5.2), built once per integer and
 * encoding, so that nothing is left to do per socket but the write itself.
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

export const plainEncoding = new Encoding((n) => wholeTextFrame(plainIntegerFrame(n)))
