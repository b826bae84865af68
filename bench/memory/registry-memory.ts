/**
 * Bytes the gateway's own state costs per parked request, apart from the HTTP connection that
 * carries it: 10,000 waiters in a PendingRegistry (each with its deadline timer and promise), the
 * heap measured after a full GC before and after. Run: `node --expose-gc --import tsx bench/memory/registry-memory.ts`.
 */
import { PendingRegistry } from '../../src/exchange/pending-registry';
import { newCorrelationId } from '../../src/protocol/correlation-id';
import { heapUsed } from './parking-client';

const N = Number(process.argv[2] ?? 10_000);
async function main(): Promise<void> {
  const registry = new PendingRegistry(async () => null);
  const ids = Array.from({ length: N }, () => newCorrelationId('rg-0123456789ab'));
  const before = heapUsed();
  const outcomes = ids.map((id) => registry.park(id, 600_000, 'echo', () => undefined));
  const after = heapUsed();
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
