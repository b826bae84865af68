/**
 * Sampling interval of the event-loop delay monitors (prom-client's default, and the floor's).
 * The monitor's histogram records the whole interval between its timer firings, so an idle loop
 * reads about this much; the reported lag is what exceeds it.
 */
export const LOOP_LAG_RESOLUTION_MS = 10;

/** Event-loop delay of a process over a window beyond the sampling interval, in milliseconds. */
export interface LoopLag {
  p99Ms: number;
  maxMs: number;
}

/**
 * The event-loop delay a replica measured since its metrics were last scraped (prom-client's
 * monitor resets at every scrape): scrape once before a window to reset, once after to read.
 */
export async function scrapeLoopLag(port: number): Promise<LoopLag | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const read = (name: string): number => {
      const m = new RegExp(`^replygate_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text);
      return m ? Math.max(0, Number(m[1]) * 1000 - LOOP_LAG_RESOLUTION_MS) : NaN;
    };
    return { p99Ms: read('p99'), maxMs: read('max') };
  } catch {
    return undefined;
  }
}

/** The worst of several replicas' lags (the split set-up has two serving replicas). */
export function worstLag(lags: readonly (LoopLag | undefined)[]): LoopLag | undefined {
  const present = lags.filter((l): l is LoopLag => l !== undefined && Number.isFinite(l.p99Ms));
  if (present.length === 0) return undefined;
  return {
    p99Ms: Math.max(...present.map((l) => l.p99Ms)),
    maxMs: Math.max(...present.map((l) => l.maxMs)),
  };
}
