/**
 * A connection that records the text of every frame written to it, for tests of the fan-out
 * against `TestClock`, with no socket under it.
 */
import { Connection, type Transport } from "../../src/connection/Connection.js"
import type { Protocol } from "../../src/ops/Metrics.js"
import { serverFrames } from "./Frames.js"

export const recordingConnection = (record: (text: string) => void, kind: Protocol = "plain") => {
  const transport: Transport<undefined> = {
    write: (_, bytes) => {
      for (const frame of serverFrames(bytes)) record(String(frame.payload))
    },
    bufferedAmount: () => 0,
    isOpen: () => true,
    close: () => {},
    terminate: () => {}
  }
  return new Connection(kind, "/_ws/", "127.0.0.1", undefined, transport)
}
