/**
 * The chart of a run: one row per figure, Integer Forge relative to the baseline (median of the
 * per-round ratios, whiskers min–max, a dot per round), on a log scale centred on 1. Plain SVG
 * written here, so it needs no charting dependency and renders on GitHub as is.
 */

const escapeXml = (text) => String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

/** One SVG element; numbers are rounded to keep the file small and stable. */
const element = (name, attributes, text) => {
  const attrs = Object.entries(attributes)
    .map(([key, value]) => `${key}="${typeof value === "number" ? Math.round(value * 10) / 10 : escapeXml(value)}"`)
    .join(" ")
  return text === undefined ? `<${name} ${attrs}/>` : `<${name} ${attrs}>${escapeXml(text)}</${name}>`
}

const width = 920
const labelWidth = 440
const plotLeft = labelWidth + 20
const plotRight = width - 70
const rowHeight = 30
const top = 70
// Most ratios sit near 1, so the axis runs from ½ to 2; a bar beyond stops at the edge with an
// arrow, and every value is written out at the right.
const domain = [Math.log2(0.5), Math.log2(2)]
const ticks = [0.5, 0.625, 0.8, 1, 1.25, 1.6, 2]

const x = (ratio) => {
  const clamped = Math.min(domain[1], Math.max(domain[0], Math.log2(ratio)))
  return plotLeft + ((clamped - domain[0]) / (domain[1] - domain[0])) * (plotRight - plotLeft)
}

const targetRatio = (target) =>
  target !== undefined && (target.kind === "ratioAtMost" || target.kind === "ratioAtLeast") ? target.value : undefined

const colours = { better: "#4caf50", worse: "#ff9800", target: "#d32f2f", text: "#222", muted: "#666" }

/** The SVG text for the rows of `tabulate` (those with a ratio), titled with `subtitle`. */
export const ratioChart = (rows, settings, subtitle) => {
  const charted = rows.filter((row) => row.figure.chart !== false && Number.isFinite(row.ratio.median))
  const bottom = top + charted.length * rowHeight
  const height = bottom + 50
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="Helvetica, Arial, sans-serif" font-size="12" fill="${colours.text}">`,
    element("rect", { width: "100%", height: "100%", fill: "#ffffff" }),
    element("text", { x: 10, y: 20, "font-size": 15, "font-weight": "bold" }, "Integer Forge ÷ ws baseline, same run"),
    element("text", { x: 10, y: 38, fill: colours.muted }, subtitle),
    element(
      "text",
      { x: 10, y: 55, fill: colours.muted },
      "Bar: median of the per-round ratios; whisker: min–max; dots: rounds. " +
        "Green: ours better, orange: ours worse. Log scale."
    )
  ]
  for (const tick of ticks) {
    const at = x(tick)
    const stroke = tick === 1 ? "#333" : "#ddd"
    parts.push(
      element("line", { x1: at, y1: top - 4, x2: at, y2: bottom, stroke }),
      element("text", { x: at, y: bottom + 16, "text-anchor": "middle", fill: colours.muted }, `${tick}×`)
    )
  }
  charted.forEach((row, i) => {
    const y = top + i * rowHeight
    const middle = y + rowHeight / 2
    const ratio = row.ratio.median
    const better = row.figure.better === "lower" ? ratio <= 1 : ratio >= 1
    const direction = row.figure.better === "lower" ? "lower is better" : "higher is better"
    parts.push(
      element("text", { x: 10, y: middle - 2 }, row.figure.label(settings)),
      element("text", { x: 10, y: middle + 10, fill: colours.muted, "font-size": 10 }, direction),
      element("rect", {
        x: Math.min(x(1), x(ratio)),
        y: y + 8,
        width: Math.max(1, Math.abs(x(ratio) - x(1))),
        height: rowHeight - 16,
        fill: better ? colours.better : colours.worse,
        opacity: 0.8
      }),
      element("line", { x1: x(row.ratio.min), y1: middle, x2: x(row.ratio.max), y2: middle, stroke: "#333" })
    )
    for (const value of row.perRound.filter((v) => Number.isFinite(v))) {
      parts.push(element("circle", { cx: x(value), cy: middle, r: 2.5, fill: "#333" }))
    }
    const aim = row.figure.target?.aim
    if (aim !== undefined) {
      parts.push(element("line", {
        x1: x(aim),
        y1: y + 3,
        x2: x(aim),
        y2: y + rowHeight - 3,
        stroke: colours.target,
        "stroke-width": 1,
        "stroke-dasharray": "1,2"
      }))
    }
    const target = targetRatio(row.figure.target)
    if (target !== undefined) {
      parts.push(element("line", {
        x1: x(target),
        y1: y + 3,
        x2: x(target),
        y2: y + rowHeight - 3,
        stroke: colours.target,
        "stroke-width": 2,
        "stroke-dasharray": "3,2"
      }))
    }
    const clipped = ratio > 2 ? plotRight : ratio < 0.5 ? plotLeft : undefined
    if (clipped !== undefined) {
      const tip = clipped === plotRight ? 8 : -8
      parts.push(element("path", {
        d: `M ${clipped} ${y + 6} l ${tip} ${rowHeight / 2 - 6} l ${-tip} ${rowHeight / 2 - 6} z`,
        fill: better ? colours.better : colours.worse
      }))
    }
    parts.push(element("text", { x: plotRight + 12, y: middle + 4 }, `${ratio.toFixed(2)}×`))
  })
  parts.push(
    element("line", {
      x1: plotLeft,
      y1: bottom + 30,
      x2: plotLeft,
      y2: bottom + 40,
      stroke: colours.target,
      "stroke-width": 2,
      "stroke-dasharray": "3,2"
    }),
    element("text", { x: plotLeft + 8, y: bottom + 39, fill: colours.muted }, "target ratio; dotted: aim"),
    "</svg>",
    ""
  )
  return parts.join("\n")
}
