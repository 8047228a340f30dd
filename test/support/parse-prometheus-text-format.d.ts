declare module "parse-prometheus-text-format" {
  interface MetricFamily {
    readonly name: string
    readonly help: string
    readonly type: string
    readonly metrics: ReadonlyArray<{ readonly value?: string; readonly labels?: Record<string, string> }>
  }
  export default function parsePrometheusTextFormat(text: string): ReadonlyArray<MetricFamily>
}
