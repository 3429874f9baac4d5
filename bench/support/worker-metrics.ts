// Reads a worker process's Prometheus endpoint (workers/metrics.ts, AGENTS_METRICS_PORT) and sums series by name
// over their labels, so a benchmark can subtract two readings: task counts, summed latencies (seconds), cache misses.
export type MetricsReading = Record<string, number>;

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)/;

export async function readWorkerMetrics(port: number): Promise<MetricsReading> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const reading: MetricsReading = {};
  for (const line of text.split('\n')) {
    const match = sampleLine.exec(line);
    if (!match || match[1]!.endsWith('_bucket')) continue;
    const value = Number(match[2]);
    if (!Number.isFinite(value)) continue;
    reading[match[1]!] = (reading[match[1]!] ?? 0) + value;
    // Requests to the Temporal server also by operation (temporal_request{operation="RecordActivityTaskHeartbeat"}).
    const operation = /operation="([A-Za-z]+)"/.exec(line)?.[1];
    if (operation && match[1] === 'temporal_request') {
      const key = `${match[1]}:${operation}`;
      reading[key] = (reading[key] ?? 0) + value;
    }
  }
  return reading;
}

export const metricsSpent = (before: MetricsReading, after: MetricsReading): MetricsReading =>
  Object.fromEntries(Object.keys(after).map((name) => [name, (after[name] ?? 0) - (before[name] ?? 0)]));

/** Mean of a histogram between two readings, in ms (durations are exported in seconds). */
export function meanMs(spent: MetricsReading, histogram: string): number | null {
  const count = spent[`${histogram}_count`] ?? 0;
  if (count === 0) return null;
  return Math.round(((spent[`${histogram}_sum`] ?? 0) / count) * 10_000) / 10;
}
