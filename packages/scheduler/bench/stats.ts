/** Small helpers shared by the benchmarks: percentiles and formatting. */

/** The `p`-th percentile (0–100) of `values` (nearest-rank). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** `median (p10–p90)` in ms with sensible precision. */
export function summary(valuesMs: readonly number[]): string {
  const f = (ms: number): string => (ms < 1 ? `${(ms * 1000).toFixed(1)}µs` : `${ms.toFixed(2)}ms`);
  return `median ${f(percentile(valuesMs, 50))} (p10 ${f(percentile(valuesMs, 10))}, p90 ${f(percentile(valuesMs, 90))}, n=${valuesMs.length})`;
}
