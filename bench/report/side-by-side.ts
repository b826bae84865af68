import type { BenchResults, ClosedRun, OpenRun, VariantResult } from './results';

/** The variants of issue 17's comparison, in table order. */
const ORDER = ['floor', 'replygate-3all', 'replygate-3http-2relay', 'spring', 'nest'];
/** replygate's three-instance set-ups and the peers they are held against. */
const REPLYGATE = ['replygate-3all', 'replygate-3http-2relay'];
const PEERS = ['spring', 'nest'];
/** 100,000 parked requests in 1 GiB: the most one parked request may cost. */
export const PARK_BUDGET_BYTES = 2 ** 30 / 100_000;

const f = (n: number | undefined, d = 1): string => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(d));
const closed = (v: VariantResult | undefined, bytes: number, c: number): ClosedRun | undefined =>
  v?.closed.find((r) => r.payloadBytes === bytes && r.concurrency === c);
const open = (v: VariantResult | undefined, bytes: number, rate: number): OpenRun | undefined =>
  v?.open.find((r) => r.payloadBytes === bytes && r.rate === rate);
const base = (v: VariantResult): string => v.name.split('@')[0] as string;

/**
 * The side-by-side table against the peers: throughput at each concurrency, p50 / p99 at each
 * rate, gateway CPU and Redis commands per request (c=64), bytes per parked request. Empty when
 * the run had none of the peers or three-instance variants.
 */
export function sideBySide(r: BenchResults, payloads: number[], concurrencies: number[], rates: number[]): string[] {
  const rows = r.variants.filter((v) => ORDER.includes(base(v)) || v.name.includes('BENCH_REF'));
  if (!rows.some((v) => PEERS.includes(base(v)) || REPLYGATE.includes(base(v)))) return [];
  const lines = ['## Side by side: replygate, its peers and the floor', ''];
  lines.push(
    `| variant | payload | ${concurrencies.map((c) => `rps c=${c}`).join(' | ')} | ${rates.map((x) => `p50 / p99 @${x}/s (ms)`).join(' | ')} | gateway CPU ms / 1k, c=64 (net of idle) | Redis cmd / request | bytes / parked request |`,
  );
  lines.push(`|---|---|${[...concurrencies, ...rates].map(() => '---:').join('|')}|---:|---:|---:|`);
  for (const bytes of payloads)
    for (const v of rows) {
      const c64 = closed(v, bytes, 64);
      lines.push(
        `| ${v.label} | ${bytes} B | ${concurrencies.map((c) => f(closed(v, bytes, c)?.rps, 0)).join(' | ')} | ${rates
          .map((x) => {
            const l = open(v, bytes, x)?.latency;
            return l ? `${f(l.p50, 2)} / ${f(l.p99, 1)}` : '–';
          })
          .join(
            ' | ',
          )} | ${f(c64?.gatewayCpuMsPer1k, 0)} (${f(c64?.gatewayCpuMsPer1kNet, 0)}) | ${f(c64?.redisCommandsPerRequest, 2)} | ${f(v.park?.bytesPerParked, 0)}${v.park ? ` (${v.park.parked})` : ''} |`,
      );
    }
  lines.push('');
  return lines;
}

/** Issue 17's targets, as ratios within the run. */
export function peerChecks(r: BenchResults): { target: string; measured: string; met: boolean | undefined }[] {
  const by = (n: string): VariantResult | undefined => r.variants.find((v) => v.name === n);
  const floor = by('floor');
  const peers = PEERS.map(by).filter((v): v is VariantResult => v !== undefined);
  const ours = REPLYGATE.map(by).filter((v): v is VariantResult => v !== undefined);
  const out: { target: string; measured: string; met: boolean | undefined }[] = [];
  const payloads = [...new Set(r.variants.flatMap((v) => v.closed.map((c) => c.payloadBytes)))];
  const concurrencies = [...new Set(r.variants.flatMap((v) => v.closed.map((c) => c.concurrency)))];
  const rates = [...new Set(r.variants.flatMap((v) => v.open.map((o) => o.rate)))];
  for (const bytes of payloads) {
    for (const v of ours) {
      for (const c of concurrencies) {
        const best = peers.map((p) => ({ p, rps: closed(p, bytes, c)?.rps ?? NaN })).sort((a, b) => b.rps - a.rps)[0];
        const mine = closed(v, bytes, c)?.rps;
        if (best && mine !== undefined)
          out.push({
            target: `${bytes} B c=${c}, ${v.label}: throughput ≥ best peer's`,
            measured: `${f(mine, 0)} vs ${f(best.rps, 0)}/s (${best.p.name})`,
            met: mine >= best.rps,
          });
      }
      for (const rate of rates) {
        const best = peers
          .map((p) => ({ p, p99: open(p, bytes, rate)?.latency.p99 ?? NaN }))
          .sort((a, b) => a.p99 - b.p99)[0];
        const mine = open(v, bytes, rate)?.latency.p99;
        if (best && mine !== undefined)
          out.push({
            target: `${bytes} B @${rate}/s, ${v.label}: p99 ≤ best peer's`,
            measured: `${f(mine, 1)} vs ${f(best.p99, 1)} ms (${best.p.name})`,
            met: mine <= best.p99,
          });
        const fl = open(floor, bytes, rate)?.latency.p50;
        const p50 = open(v, bytes, rate)?.latency.p50;
        if (rate === 150 && fl !== undefined && p50 !== undefined)
          out.push({
            target: `${bytes} B @150/s, ${v.label}: p50 ≤ floor + 1 ms`,
            measured: `${f(p50, 2)} vs ${f(fl, 2)} + 1 ms`,
            met: p50 <= fl + 1,
          });
      }
      const fl64 = closed(floor, bytes, 64);
      const mine64 = closed(v, bytes, 64);
      if (fl64 && mine64 && base(v) === 'replygate-3all')
        out.push({
          target: `${bytes} B c=64, ${v.label}: throughput ≥ 80 % of floor`,
          measured: `${f((mine64.rps / fl64.rps) * 100, 0)} %`,
          met: mine64.rps >= 0.8 * fl64.rps,
        });
      if (fl64 && mine64 && base(v) === 'replygate-3http-2relay')
        out.push({
          target: `${bytes} B c=64, ${v.label}: gateway CPU per request ≤ 2 × floor's`,
          measured:
            `${f(mine64.gatewayCpuMsPer1k, 0)} vs ${f(fl64.gatewayCpuMsPer1k, 0)} ms / 1k = ${f(mine64.gatewayCpuMsPer1k / fl64.gatewayCpuMsPer1k, 2)} ×` +
            ` (net of idle: ${f((mine64.gatewayCpuMsPer1kNet ?? NaN) / (fl64.gatewayCpuMsPer1kNet ?? NaN), 2)} ×)`,
          met: mine64.gatewayCpuMsPer1k <= 2 * fl64.gatewayCpuMsPer1k,
        });
    }
  }
  for (const v of [...ours, ...peers]) {
    if (!v.park) continue;
    out.push({
      target: `${v.label}: 100,000 parked on one replica in ≤ 1 GiB RSS (≤ ${f(PARK_BUDGET_BYTES, 0)} B each)`,
      measured: `${f(v.park.bytesPerParked, 0)} B each, measured with ${v.park.parked} parked → ${f((v.park.bytesPerParked * 100_000) / 2 ** 30, 2)} GiB for 100,000`,
      met: v.park.bytesPerParked <= PARK_BUDGET_BYTES,
    });
  }
  return out;
}

/** How many of a variant's processes run each role (the relay groups of its relays). */
const ROLE_SHAPES: Record<string, { http?: number; relay?: number; groups?: number; all?: number }> = {
  'replygate-all': { all: 1 },
  'replygate-3all': { all: 3 },
  'replygate-split': { http: 2, relay: 1, groups: 1 },
  'replygate-split-cluster': { http: 2, relay: 1, groups: 1 },
  'replygate-3http-2relay': { http: 3, relay: 2, groups: 2 },
};

/**
 * The capacity rule per role at c=64: CPU per 1,000 requests of the http processes (the gateway's
 * less its relays'), of one relay group (every group reads every reply), and of the `all` role,
 * each also as requests per second per core (1,000,000 / ms per 1k). From each variant's median
 * round; the relays' CPU is measured per process (`relay.cpuMsPer1k`).
 */
export function roleCapacity(r: BenchResults, payloads: number[]): string[] {
  const rows: string[] = [];
  const perCore = (msPer1k: number): string => f(1_000_000 / msPer1k, 0);
  for (const bytes of payloads)
    for (const v of r.variants) {
      const shape = ROLE_SHAPES[base(v)];
      const c64 = closed(v, bytes, 64);
      if (shape === undefined || c64 === undefined) continue;
      if (shape.all !== undefined) {
        rows.push(
          `| ${v.label} | ${bytes} B | – | – | ${f(c64.gatewayCpuMsPer1k, 0)} (${perCore(c64.gatewayCpuMsPer1k)}/s) |`,
        );
        continue;
      }
      if (c64.relay === undefined) continue;
      const httpMs = c64.gatewayCpuMsPer1k - c64.relay.cpuMsPer1k;
      const groupMs = c64.relay.cpuMsPer1k / (shape.groups ?? 1);
      rows.push(
        `| ${v.label} | ${bytes} B | ${f(httpMs, 0)} (${perCore(httpMs)}/s) | ${f(groupMs, 0)} (${perCore(groupMs)}/s) | – |`,
      );
    }
  if (rows.length === 0) return [];
  return [
    '## CPU per role (c=64): ms per 1,000 requests, and requests/s per core',
    '',
    'http: the http processes together (the gateway CPU less the relays’); relay group: one group (each reads every reply); all: the `all` processes together.',
    '',
    '| variant | payload | http role | relay role, per group | all role |',
    '|---|---|---:|---:|---:|',
    ...rows,
    '',
  ];
}
