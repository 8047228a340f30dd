/**
 * Just enough RFC 6455 framing to speak to the server from a raw TCP socket: build client frames
 * (correct or deliberately broken) and read the server's frames back.
 */
import { randomBytes } from "node:crypto"

export interface FrameSpec {
  readonly opcode: number
  readonly payload?: Buffer
  readonly fin?: boolean
  readonly mask?: boolean
  readonly rsv?: number
}

export const clientFrame = ({ fin = true, mask = true, opcode, payload = Buffer.alloc(0), rsv = 0 }: FrameSpec) => {
  const length = payload.length
  const header: Array<number> = [(fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f)]
  const maskBit = mask ? 0x80 : 0
  if (length < 126) header.push(maskBit | length)
  else if (length < 65536) header.push(maskBit | 126, length >> 8, length & 0xff)
  else {
    header.push(maskBit | 127, 0, 0, 0, 0)
    header.push((length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff)
  }
  if (!mask) return Buffer.concat([Buffer.from(header), payload])
  const key = randomBytes(4)
  const masked = Buffer.from(payload.map((byte, i) => byte ^ key[i % 4]!))
  return Buffer.concat([Buffer.from(header), key, masked])
}

export interface ServerFrame {
  readonly opcode: number
  readonly payload: Buffer
}

/** The complete frames in a buffer of server output (server frames are never masked). */
export const serverFrames = (data: Buffer): Array<ServerFrame> => {
  const frames: Array<ServerFrame> = []
  let at = 0
  while (at + 2 <= data.length) {
    const opcode = data[at]! & 0x0f
    let length = data[at + 1]! & 0x7f
    let start = at + 2
    if (length === 126) {
      if (start + 2 > data.length) break
      length = data.readUInt16BE(start)
      start += 2
    } else if (length === 127) {
      if (start + 8 > data.length) break
      length = Number(data.readBigUInt64BE(start))
      start += 8
    }
    if (start + length > data.length) break
    frames.push({ opcode, payload: data.subarray(start, start + length) })
    at = start + length
  }
  return frames
}

/** The close code in the server's close frame, if it sent one. */
export const closeCodeOf = (frames: ReadonlyArray<ServerFrame>): number | undefined => {
  const close = frames.find((f) => f.opcode === 0x8)
  return close === undefined || close.payload.length < 2 ? undefined : close.payload.readUInt16BE(0)
}

export const opcodes = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const
