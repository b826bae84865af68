import { readFileSync } from 'node:fs';

/**
 * `tsx bench/profile-summary.ts <file.cpuprofile> [top]`: self time by function and by package,
 * from a `node --cpu-prof` profile (what `npm run bench -- --profile` writes to bench/profiles/),
 * and node core's time charged to the nearest caller outside node core (who made the syscalls).
 */
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const fn = new Map<string, number>();
const pkg = new Map<string, number>();
const charged = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id);
  if (!n) continue;
  const where = area(n);
  pkg.set(where, (pkg.get(where) ?? 0) + us);
  let payer = n;
  let payerArea = where;
  while (payerArea === 'node core') {
    const up = byId.get(parent.get(payer.id) ?? -1);
    if (up === undefined) break;
    payer = up;
    payerArea = area(up);
  }
  const payerKey =
    payer === n
      ? where
      : `${payerArea} (${payer.callFrame.functionName || '(anonymous)'} ${payer.callFrame.url.split('/').slice(-2).join('/')})`;
  charged.set(payerKey, (charged.get(payerKey) ?? 0) + us);
  const key = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
}

function area(n: Node): string {
  const url = n.callFrame.url;
  return url.includes('node_modules/')
    ? (url.split('node_modules/').pop() ?? '')
        .split('/')
        .slice(0, url.includes('node_modules/@') ? 2 : 1)
        .join('/')
    : url.startsWith('node:') || url === ''
      ? n.callFrame.functionName.startsWith('(')
        ? n.callFrame.functionName
        : 'node core'
      : url.includes('/src/')
        ? `replygate ${url.slice(url.indexOf('/src/') + 5).split('/')[0]}`
        : 'other';
}
const top = Number(topArg ?? 20);
const show = (title: string, m: Map<string, number>): void => {
  process.stdout.write(`\n${title} (self time, ${(total / 1e6).toFixed(2)} s sampled)\n`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${((us / total) * 100).toFixed(1).padStart(5)} %  ${k}\n`);
  }
};
show('by package / area', pkg);
show('by function', fn);
show('node core charged to its nearest caller outside node core', charged);
