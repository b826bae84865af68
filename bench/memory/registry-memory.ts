/**
 * Bytes the gateway's own state costs per parked request, apart from the HTTP connection that
 * carries it: 10,000 waiters in a PendingRegistry (each with its deadline timer and promise), the
 * heap measured after a full GC before and after. Run: `node --expose-gc --import tsx bench/memory/registry-memory.ts`.
 */
import { PendingRegistry } from '../../src/gateway/pending-registry';
import { newCorrelationId } from '../../src/protocol/correlation-id';

const N = Number(process.argv[2] ?? 10_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

function heap(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

async function main(): Promise<void> {
  const registry = new PendingRegistry(async () => null);
  const ids = Array.from({ length: N }, () => newCorrelationId('rg-0123456789ab'));
  const before = heap();
  const outcomes = ids.map((id) => registry.park(id, 600_000, 'echo', () => undefined));
  const after = heap();
  const perEntry = (after - before) / N;
  registry.cancelAll('done');
  await Promise.all(outcomes);
  const result = {
    parked: N,
    heapBytesPerParkedRequest: Math.round(perEntry),
    note: 'correlation id strings allocated before the first measurement',
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

void main();
