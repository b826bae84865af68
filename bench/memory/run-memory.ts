/**
 * `npm run bench:memory`: the heap cost of a parked request, split by layer, in one run.
 * Runs, each in its own process with `--expose-gc`, bench/memory/baseline-http.ts for bare node,
 * node + helmet, express, express + helmet, then bench/memory/parked-heap.ts (a replygate `all`
 * replica, with the heap-snapshot diff) and registry-memory.ts (the PendingRegistry alone), and
 * writes bench/results/<date>-memory.json and .md. `--ref <commit>` adds that commit's replica
 * (run from its sources, extracted into a temp folder) as a row of the same run. Needs KAFKA_BROKERS and REDIS_URL for the
 * replica (e.g. `eval "$(scripts/stack.sh env)"`).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkoutRef } from '../harness/build-ref';

const N = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 5_000);
/** `--ref <commit>`: also measure the replica of that commit, in the same run (before/after). */
const refAt = process.argv.indexOf('--ref');
const REF = refAt > 0 ? process.argv[refAt + 1] : undefined;
const here = __dirname;

function run(script: string, args: string[], dir = here): Record<string, unknown> {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', resolve(dir, script), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
  });
  return JSON.parse(out.slice(out.indexOf('{'))) as Record<string, unknown>;
}

const rows: { layer: string; result: Record<string, unknown> }[] = [];
for (const [layer, kind] of [
  ['node http server alone', 'node'],
  ['node + helmet middleware', 'node-helmet'],
  ['express (body via express.raw)', 'express-nohelmet'],
  ['express + helmet middleware, catch-all handler', 'express-use'],
] as const) {
  process.stderr.write(`[memory] ${layer}\n`);
  rows.push({ layer, result: run('baseline-http.ts', [kind, String(N), '--snapshot']) });
}
process.stderr.write('[memory] replygate all replica\n');
rows.push({ layer: 'replygate, 1 × all (this commit)', result: run('parked-heap.ts', [String(N), '--snapshot']) });
if (REF !== undefined) {
  process.stderr.write(`[memory] replygate all replica of ${REF}\n`);
  const dir = resolve(
    checkoutRef(REF, (m) => process.stderr.write(`[memory] ${m}\n`)),
    'bench/memory',
  );
  rows.push({ layer: `replygate, 1 × all (${REF})`, result: run('parked-heap.ts', [String(N), '--snapshot'], dir) });
}
process.stderr.write('[memory] PendingRegistry alone\n');
const registry = run('registry-memory.ts', ['10000']);

const stamp = new Date().toISOString().replace(/:/g, '-').replace(/\..*$/, '');
const base = resolve(here, '../results', `${stamp}-memory`);
mkdirSync(resolve(here, '../results'), { recursive: true });
writeFileSync(`${base}.json`, `${JSON.stringify({ parkedPerLayer: N, rows, registry }, null, 2)}\n`);
const md = [
  `# Heap per parked request, by layer (${stamp}, ${N} requests, heap after full GC)`,
  '',
  '| layer | heap / idle connection (B) | heap / request parked on it (B) |',
  '|---|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.layer} | ${String(r.result['heapBytesPerIdleConnection'])} | ${String(r.result['heapBytesPerParkedRequest'])} |`,
  ),
  `| PendingRegistry entry alone (registry-memory.ts) | – | ${String(registry['heapBytesPerParkedRequest'])} |`,
  '',
  'Largest growths per parked request (heap-snapshot diff by constructor) are in the JSON.',
  '',
].join('\n');
writeFileSync(`${base}.md`, md);
process.stderr.write(`[memory] wrote ${base}.json, .md\n`);
