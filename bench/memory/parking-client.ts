/**
 * The measuring half shared by the parked-request memory tools: heap after a full GC, and a
 * client process that opens connections, waits, then parks one `POST /park` on each.
 */
import { spawn } from 'node:child_process';
import { type HeapGrowth, HeapDiff } from './heap-diff';

/** The heap in use after two full GCs (the process must run with `--expose-gc`). */
export function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** The client, in its own process: opens N connections, then on "park" on stdin sends one request on each. */
const CLIENT = `
const net = require('node:net');
const [port, n] = process.argv.slice(1).map(Number);
const body = '{"park":true}';
const req = 'POST /park HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\nContent-Length: ' + body.length + '\\r\\n\\r\\n' + body;
const sockets = [];
(async () => {
  for (let i = 0; i < n; i += 250) {
    await Promise.all(Array.from({ length: Math.min(250, n - i) }, () => new Promise((ok, ko) => {
      const s = net.connect({ host: '127.0.0.1', port }, ok); s.on('error', ko); s.on('data', () => {}); sockets.push(s);
    })));
  }
  process.stdout.write('connected\\n');
  process.stdin.once('data', () => { for (const s of sockets) s.write(req); process.stdout.write('sent\\n'); });
})();
`;

export interface ParkingMeasurement {
  parked: number;
  heapBytesPerIdleConnection: number;
  heapBytesPerParkedRequest: number;
  largestPerRequest?: HeapGrowth[];
}

/**
 * Open `count` connections to `port`, let them settle, then park a request on each and wait until
 * `parkedNow()` reaches `count`; heap read before, with the connections idle, and with the
 * requests parked. With `snapshotTag`, heap snapshots of the last two are compared.
 */
export async function measureParking(
  port: number,
  count: number,
  parkedNow: () => number,
  snapshotTag?: string,
): Promise<ParkingMeasurement> {
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 1000));
  const before = heapUsed();
  const client = spawn(process.execPath, ['-e', CLIENT, String(port), String(count)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    const lines = client.stdout.setEncoding('utf8');
    const next = (): Promise<string> => new Promise((r) => lines.once('data', (d: string) => r(d.trim())));
    await next(); // connected
    await settle();
    const connected = heapUsed();
    const diff = snapshotTag !== undefined ? HeapDiff.start(snapshotTag) : undefined;
    client.stdin.write('park\n');
    await next(); // sent
    while (parkedNow() < count) await new Promise((r) => setTimeout(r, 50));
    await settle();
    const parked = heapUsed();
    return {
      parked: count,
      heapBytesPerIdleConnection: Math.round((connected - before) / count),
      heapBytesPerParkedRequest: Math.round((parked - connected) / count),
      ...(diff ? { largestPerRequest: diff.end(count) } : {}),
    };
  } finally {
    client.kill();
  }
}
