/**
 * The service's `/metrics`, scraped and read with a Prometheus text-format parser, as a
 * Prometheus server would read it, rather than with patterns over the text.
 */
import { assert } from "@effect/vitest"
import { Effect } from "effect"
import parsePrometheusTextFormat from "parse-prometheus-text-format"

/**
 * The value of the first sample of a family whose labels include the given ones; undefined when
 * there is none (prom-client shows a labelled sample only once it has been counted).
 */
export type MetricReader = (name: string, labels?: Record<string, string>) => number | undefined

export const scrapeMetrics = (url: string): Effect.Effect<MetricReader> =>
  Effect.promise(async () => {
    const response = await fetch(url)
    assert.strictEqual(response.status, 200)
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/)
    const families = parsePrometheusTextFormat(await response.text())
    return (name, labels = {}) => {
      const family = families.find((f) => f.name === name)
      const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
      return sample === undefined ? undefined : Number(sample.value)
    }
  })
