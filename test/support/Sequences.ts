/** Whether integers (or their decimal strings) rise by exactly one each time: no gap, no repeat. */
export const consecutive = (values: ReadonlyArray<number | string>): boolean =>
  values.every((v, i) => i === 0 || Number(v) === Number(values[i - 1]) + 1)
