import { totalCpuMs } from './proc-stats';

/** A relay tier's counters, summed over its relay processes. */
export interface RelaySnapshot {
  cpuMs: number;
  fetches: number;
  readBytes: number;
  /** `replygate_relay_writes_total` by result. */
  writes: Record<string, number>;
}

/** Read CPU (from /proc) and the relay counters (from each relay's /metrics). */
export async function relaySnapshot(relays: readonly { port: number; pid: number }[]): Promise<RelaySnapshot> {
  const pages = await Promise.all(
    relays.map((r) => fetch(`http://127.0.0.1:${r.port}/metrics`).then((res) => res.text())),
  );
  const snap: RelaySnapshot = { cpuMs: totalCpuMs(relays.map((r) => r.pid)), fetches: 0, readBytes: 0, writes: {} };
  for (const page of pages) {
    for (const line of page.split('\n')) {
      const m = /^(replygate_relay_[a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
      if (!m) continue;
      const value = Number(m[3]);
      if (m[1] === 'replygate_relay_fetches_total') snap.fetches += value;
      else if (m[1] === 'replygate_relay_read_bytes_total') snap.readBytes += value;
      else if (m[1] === 'replygate_relay_writes_total') {
        const result = /result="([^"]+)"/.exec(m[2] ?? '')?.[1] ?? '?';
        snap.writes[result] = (snap.writes[result] ?? 0) + value;
      }
    }
  }
  return snap;
}

/** The relay tier's cost of `requests` answered requests, between two snapshots. */
export function relayCosts(
  before: RelaySnapshot,
  after: RelaySnapshot,
  requests: number,
): { cpuMsPer1k: number; fetchesPerRequest: number; readBytesPerRequest: number; writes: Record<string, number> } {
  const per = (n: number): number => (requests > 0 ? n / requests : NaN);
  const writes: Record<string, number> = {};
  for (const [k, v] of Object.entries(after.writes)) {
    const d = v - (before.writes[k] ?? 0);
    if (d > 0) writes[k] = d;
  }
  return {
    cpuMsPer1k: per(after.cpuMs - before.cpuMs) * 1000,
    fetchesPerRequest: per(after.fetches - before.fetches),
    readBytesPerRequest: per(after.readBytes - before.readBytes),
    writes,
  };
}
