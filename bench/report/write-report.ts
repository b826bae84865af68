import { eventsMarkdown } from '../events/events-bench';
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { BenchResults, ClosedRun, OpenRun, VariantResult } from './results';
import { peerChecks, roleCapacity, sideBySide } from './side-by-side';
import { type Panel, renderSvg } from './svg-chart';

/** Write `<base>.json` (raw), `<base>.md` (tables, target check) and `<base>.svg` (chart). */
export function writeReport(results: BenchResults, base: string): void {
  writeFileSync(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${base}.svg`, chart(results));
  writeFileSync(`${base}.md`, markdown(results, `${basename(base)}.svg`));
}

const closedOf = (v: VariantResult | undefined, bytes: number, c: number): ClosedRun | undefined =>
  v?.closed.find((r) => r.payloadBytes === bytes && r.concurrency === c);
const openOf = (v: VariantResult | undefined, bytes: number, rate: number): OpenRun | undefined =>
  v?.open.find((r) => r.payloadBytes === bytes && r.rate === rate);
const f = (n: number | undefined, d = 1): string => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(d));
const uniq = <T>(xs: T[]): T[] => [...new Set(xs)];

function axes(r: BenchResults): { payloads: number[]; concurrencies: number[]; rates: number[] } {
  const closed = r.variants.flatMap((v) => v.closed);
  const open = r.variants.flatMap((v) => v.open);
  return {
    payloads: uniq(closed.map((c) => c.payloadBytes)),
    concurrencies: uniq(closed.map((c) => c.concurrency)),
    rates: uniq(open.map((o) => o.rate)),
  };
}

/** The comparisons the issue asks for, as ratios measured in this one run. */
export function targetChecks(r: BenchResults): { target: string; measured: string; met: boolean | undefined }[] {
  const by = (n: string): VariantResult | undefined => r.variants.find((v) => v.name === n);
  const floor = by('floor');
  const rg = by('replygate-all');
  const split = by('replygate-split');
  const poll = by('polling');
  const aff = by('affinity');
  const { payloads, rates } = axes(r);
  const out: { target: string; measured: string; met: boolean | undefined }[] = [];
  for (const bytes of payloads) {
    for (const rate of rates) {
      const fl = openOf(floor, bytes, rate)?.latency;
      for (const [name, v] of [
        ['1 × all', rg],
        ['2 http + relay', split],
      ] as const) {
        const g = openOf(v, bytes, rate)?.latency;
        if (fl && g) {
          out.push({
            target: `${bytes} B @ ${rate}/s, ${name}: p50 ≤ floor p50 + 1 ms`,
            measured: `${f(g.p50, 2)} vs ${f(fl.p50, 2)} + 1 ms`,
            met: g.p50 <= fl.p50 + 1,
          });
          out.push({
            target: `${bytes} B @ ${rate}/s, ${name}: p99 ≤ 1.5 × floor p99`,
            measured: `${f(g.p99, 2)} ms = ${f(g.p99 / fl.p99, 2)} × floor`,
            met: g.p99 <= 1.5 * fl.p99,
          });
        }
      }
      const pl = openOf(poll, bytes, rate);
      const gl = openOf(rg, bytes, rate);
      if (pl && gl) {
        out.push({
          target: `${bytes} B @ ${rate}/s: p50 below polling's`,
          measured: `${f(gl.latency.p50, 2)} vs ${f(pl.latency.p50, 2)} ms`,
          met: gl.latency.p50 < pl.latency.p50,
        });
        out.push({
          target: `${bytes} B @ ${rate}/s: fewer Redis commands/request than polling`,
          measured: `${f(gl.redisCommandsPerRequest, 2)} vs ${f(pl.redisCommandsPerRequest, 2)}`,
          met: gl.redisCommandsPerRequest < pl.redisCommandsPerRequest,
        });
      }
    }
    for (const [name, v] of [
      ['1 × all', rg],
      ['2 http + relay', split],
    ] as const) {
      const g = closedOf(v, bytes, 64);
      const fl = closedOf(floor, bytes, 64);
      if (g && fl) {
        out.push({
          target: `${bytes} B c=64, ${name}: throughput ≥ 80 % of floor`,
          measured: `${f((g.rps / fl.rps) * 100, 0)} %`,
          met: g.rps >= 0.8 * fl.rps,
        });
      }
    }
    const g = closedOf(rg, bytes, 64);
    const a = closedOf(aff, bytes, 64);
    if (g && a) {
      out.push({
        target: `${bytes} B c=64: throughput within 10 % of affinity`,
        measured: `${f((g.rps / a.rps) * 100, 0)} % of affinity`,
        met: g.rps >= 0.9 * a.rps,
      });
    }
  }
  for (const v of [rg, split]) {
    if (v?.park) {
      out.push({
        target: `${v.label}: ≤ 2 KiB per parked request, its own HTTP connection included`,
        measured: `${f(v.park.bytesPerParked, 0)} B`,
        met: v.park.bytesPerParked <= 2048,
      });
      const own = v.park.bytesPerRequestOnConnection;
      if (own !== undefined) {
        out.push({
          target: `${v.label}: ≤ 2 KiB per request parked on an open connection`,
          measured: `${f(own, 0)} B (the idle connection itself: ${f(v.park.bytesPerConnection, 0)} B)`,
          met: own <= 2048,
        });
      }
    }
  }
  return out;
}

function markdown(r: BenchResults, svgName: string): string {
  const { payloads, concurrencies, rates } = axes(r);
  const lines: string[] = [];
  lines.push(`# Benchmark ${r.startedAt}${r.tag ? ` (${r.tag})` : ''}`, '');
  lines.push(
    `${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memGiB} GiB, ${r.machine.platform}, Node ${r.machine.node}. ` +
      'Everything (Kafka, Redis, responder, gateway, load generator) on this one machine; compare rows of this run only.',
    '',
    `![chart](${svgName})`,
    '',
  );
  lines.push(...sideBySide(r, payloads, concurrencies, rates));
  lines.push(...roleCapacity(r, payloads));
  lines.push('## Throughput, closed loop (answered requests/s)', '');
  lines.push(`| variant | payload | ${concurrencies.map((c) => `c=${c}`).join(' | ')} |`);
  lines.push(`|---|---|${concurrencies.map(() => '---:').join('|')}|`);
  for (const bytes of payloads)
    for (const v of r.variants)
      lines.push(
        `| ${v.label} | ${bytes} B | ${concurrencies.map((c) => f(closedOf(v, bytes, c)?.rps, 0)).join(' | ')} |`,
      );
  lines.push(
    '',
    '## Latency, open loop at a fixed rate (ms, from the scheduled send time)',
    '',
    'Loop lag: event-loop delay of the serving process over the window beyond the 10 ms sampling ' +
      'interval (worst replica). Run queue: ' +
      'milliseconds per second that the main thread of the gateway (all its processes), the echo ' +
      'responder and the load generator spent runnable but waiting for a CPU.',
    '',
  );
  lines.push(
    '| variant | payload | rate/s | p50 | p90 | p99 | p99.9 | max | errors | loop lag p99 / max | run queue gw / resp / load (ms/s) |',
  );
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const bytes of payloads)
    for (const rate of rates)
      for (const v of r.variants) {
        const o = openOf(v, bytes, rate);
        const l = o?.latency;
        const lag = o?.loopLag ? `${f(o.loopLag.p99Ms, 1)} / ${f(o.loopLag.maxMs, 1)}` : '';
        const q = o?.runQueueMsPerSec;
        const rq = q ? `${f(q.gateway, 0)} / ${f(q.responder, 0)} / ${f(q.loadGenerator, 0)}` : '';
        if (l)
          lines.push(
            `| ${v.label} | ${bytes} B | ${rate} | ${f(l.p50, 2)} | ${f(l.p90, 2)} | ${f(l.p99, 2)} | ${f(l.p999, 2)} | ${f(l.max, 1)} | ${l.errors} | ${lag} | ${rq} |`,
          );
      }
  lines.push('', '## Costs (closed loop c=64; CPU ms per 1,000 answered requests)', '');
  lines.push('| variant | payload | gateway CPU | responder CPU | Redis CPU | Redis cmd/request | commands |');
  lines.push('|---|---|---:|---:|---:|---:|---|');
  for (const bytes of payloads)
    for (const v of r.variants) {
      const c = closedOf(v, bytes, 64);
      if (c)
        lines.push(
          `| ${v.label} | ${bytes} B | ${f(c.gatewayCpuMsPer1k, 0)} | ${f(c.responderCpuMsPer1k, 0)} | ${f(c.redisCpuMsPer1k, 0)} | ${f(c.redisCommandsPerRequest, 2)} | ${Object.entries(
            c.redisCommands,
          )
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')} |`,
        );
    }
  const relayed = r.variants.filter((v) => v.closed.some((c) => c.relay));
  if (relayed.length > 0) {
    lines.push('', '## Relay tier (closed loop c=64; relay processes only, per answered request)', '');
    lines.push(
      '| variant | payload | throughput (rps) | relay CPU ms / 1k | Kafka fetches / request | reply bytes read / request | Redis cmd / request | relay writes |',
    );
    lines.push('|---|---|---:|---:|---:|---:|---:|---|');
    for (const bytes of payloads)
      for (const v of relayed) {
        const c = closedOf(v, bytes, 64);
        if (c?.relay)
          lines.push(
            `| ${v.label} | ${bytes} B | ${f(c.rps, 0)} | ${f(c.relay.cpuMsPer1k, 0)} | ${f(c.relay.fetchesPerRequest, 3)} | ${f(c.relay.readBytesPerRequest, 0)} | ${f(c.redisCommandsPerRequest, 2)} | ${Object.entries(
              c.relay.writes,
            )
              .map(([k, n]) => `${k} ${n}`)
              .join(', ')} |`,
          );
      }
  }
  lines.push('', '## Redis commands per request at the fixed rates', '');
  lines.push(`| variant | payload | ${rates.map((x) => `${x}/s`).join(' | ')} |`);
  lines.push(`|---|---|${rates.map(() => '---:').join('|')}|`);
  for (const bytes of payloads)
    for (const v of r.variants)
      lines.push(
        `| ${v.label} | ${bytes} B | ${rates.map((x) => f(openOf(v, bytes, x)?.redisCommandsPerRequest, 2)).join(' | ')} |`,
      );
  const parked = r.variants.filter((v) => v.park || v.parkError);
  if (parked.length > 0) {
    lines.push('', '## Parked requests (RSS growth of the replica holding them)', '');
    lines.push(
      'Connections are opened first and left idle (RSS "connected"), then one request is parked on each ' +
        '(RSS "after"); the floor parks Kafka requests only.',
      '',
    );
    lines.push(
      '| variant | parked | RSS before | RSS connected | RSS after | bytes / idle connection | bytes / request on its connection | bytes / parked request, all in |',
    );
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const v of parked) {
      const p = v.park;
      if (p === undefined) {
        lines.push(`| ${v.label} | failed: ${v.parkError ?? ''} | | | | | | |`);
        continue;
      }
      const mib = (b: number | undefined): string => (b === undefined ? '' : `${f(b / 2 ** 20, 1)} MiB`);
      lines.push(
        `| ${v.label} | ${p.parked} | ${mib(p.rssBeforeBytes)} | ${mib(p.rssConnectedBytes)} | ${mib(p.rssAfterBytes)} | ${f(p.bytesPerConnection, 0)} | ${f(p.bytesPerRequestOnConnection, 0)} | ${f(p.bytesPerParked, 0)} |`,
      );
    }
  }
  const checks = [...peerChecks(r), ...targetChecks(r)];
  if (checks.length > 0) {
    lines.push('', '## Targets (ratios within this run)', '', '| target | measured | met |', '|---|---|---|');
    for (const c of checks)
      lines.push(`| ${c.target} | ${c.measured} | ${c.met === undefined ? '–' : c.met ? 'yes' : '**no**'} |`);
  }
  if (r.events !== undefined) lines.push('', eventsMarkdown(r.events));
  return `${lines.join('\n')}\n`;
}

function chart(r: BenchResults): string {
  const { payloads, rates } = axes(r);
  const c = 64;
  const rate = rates[0] ?? 0;
  const panels: Panel[] = [
    {
      title: `Throughput, closed loop c=${c} (req/s, more is better)`,
      unit: '',
      series: payloads.map((b) => `${b} B`),
      rows: r.variants.map((v) => ({ label: v.label, values: payloads.map((b) => closedOf(v, b, c)?.rps ?? NaN) })),
    },
    ...payloads.slice(0, 1).map((b): Panel => ({
      title: `Latency at ${rate}/s open loop, ${b} B (ms, less is better)`,
      unit: '',
      series: ['p50', 'p99', 'p99.9'],
      rows: r.variants.map((v) => {
        const l = openOf(v, b, rate)?.latency;
        return { label: v.label, values: [l?.p50 ?? NaN, l?.p99 ?? NaN, l?.p999 ?? NaN] };
      }),
    })),
    {
      title: 'Redis commands per request (c=64)',
      unit: '',
      series: payloads.map((b) => `${b} B`),
      rows: r.variants.map((v) => ({
        label: v.label,
        values: payloads.map((b) => closedOf(v, b, c)?.redisCommandsPerRequest ?? NaN),
      })),
    },
  ];
  return renderSvg(`replygate benchmark ${r.startedAt}${r.tag ? ` (${r.tag})` : ''}`, panels);
}
