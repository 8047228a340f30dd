/**
 * The one way a whole number is written wherever the service reads or writes one: plain decimal
 * digits only (`Number()` would take "", "0x10", "1e3" and " 7"), at most 15, so that it is exact.
 */

const wholeNumber = /^\d{1,15}$/

/** The number `text` writes, or undefined when it is not plain decimal digits. */
export const parseWholeNumber = (text: string): number | undefined => wholeNumber.test(text) ? Number(text) : undefined

/** An integer as a plain WebSocket client receives it: its digits, alone in a text frame. */
export const plainIntegerFrame = (n: number): Buffer => Buffer.from(String(n))
