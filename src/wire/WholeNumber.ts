/**
 * The one way a whole number is written wherever the service reads one: in its settings, in a
 * `since` query parameter, in an integer frame read by the client, and the frames the
 * server writes to plain WebSocket clients. Plain decimal digits only
 * (`Number()` would take "", "0x10", "1e3" and " 7"), and at most 15 of them, so that every
 * number written this way is exact in a JavaScript number.
 */

const wholeNumber = /^\d{1,15}$/

/** The number `text` writes, or undefined when it is not plain decimal digits. */
export const parseWholeNumber = (text: string): number | undefined => wholeNumber.test(text) ? Number(text) : undefined

/** An integer as a plain WebSocket client receives it: its digits, alone in a text frame. */
export const plainIntegerFrame = (n: number): Buffer => Buffer.from(String(n))
