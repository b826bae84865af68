/** Latency summary of one open-loop run, in milliseconds. */
export interface LatencySummary {
  /** Requests scheduled. */
  sent: number;
  /** Requests answered with a 2xx (or a reply, for the floor). */
  ok: number;
  errors: number;
  /** Achieved rate of completions, per second. */
  achievedRate: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** Summarise latencies (ms) measured from each request's scheduled send time. */
export function summarise(latencies: number[], sent: number, errors: number, durationMs: number): LatencySummary {
  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number): number =>
    sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number);
  let sum = 0;
  for (const l of sorted) sum += l;
  const round = (n: number): number => Math.round(n * 1000) / 1000;
  return {
    sent,
    ok: sorted.length,
    errors,
    achievedRate: round((sorted.length / durationMs) * 1000),
    p50: round(at(0.5)),
    p90: round(at(0.9)),
    p99: round(at(0.99)),
    p999: round(at(0.999)),
    max: round(sorted.length === 0 ? NaN : (sorted[sorted.length - 1] as number)),
    mean: round(sorted.length === 0 ? NaN : sum / sorted.length),
  };
}
