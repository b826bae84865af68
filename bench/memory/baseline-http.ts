/**
 * The same measurement as parked-heap.ts for bare HTTP stacks that park a request and never
 * answer, so a gateway's own share can be told apart from what node's HTTP server (and express +
 * helmet) cost anyway. `node --expose-gc --import tsx bench/memory/baseline-http.ts node|express [N]`
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import helmet from 'helmet';
import { HeapDiff } from './heap-diff';

const kind = process.argv[2] ?? 'node';
const N = Number(process.argv.slice(3).find((a) => /^\d+$/.test(a)) ?? 5_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const heapUsed = (): number => {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
};

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

async function main(): Promise<void> {
  let parked = 0;
  const held: unknown[] = [];
  const park = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    held.push({ req, res, body });
    parked++;
  };
  let server;
  if (kind === 'express-nohelmet') {
    const app = express();
    app.post('/park', express.raw({ type: '*/*' }), (req, res) => park(req, res, req.body as Buffer));
    server = createServer(app);
  } else if (kind === 'node-helmet') {
    const h = helmet();
    server = createServer((req, res) => {
      h(req, res, () => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => park(req, res, Buffer.concat(chunks)));
      });
    });
  } else if (kind === 'express-use') {
    // express with helmet, the body read by hand in one catch-all handler (as replygate does)
    const app = express();
    app.use(helmet());
    app.use((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => park(req, res, Buffer.concat(chunks)));
    });
    server = createServer(app);
  } else if (kind === 'express') {
    const app = express();
    app.use(helmet());
    app.post('/park', express.raw({ type: '*/*' }), (req, res) => park(req, res, req.body as Buffer));
    server = createServer(app);
  } else {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => park(req, res, Buffer.concat(chunks)));
    });
  }
  server.requestTimeout = 0;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const before = heapUsed();
  const client = spawn(process.execPath, ['-e', CLIENT, String(port), String(N)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = client.stdout.setEncoding('utf8');
  const next = (): Promise<string> => new Promise((r) => lines.once('data', (d: string) => r(d.trim())));
  await next();
  await new Promise((r) => setTimeout(r, 1000));
  const connected = heapUsed();
  const diff = process.argv.includes('--snapshot') ? HeapDiff.start(`baseline-${kind}`) : undefined;
  client.stdin.write('park\n');
  await next();
  while (parked < N) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1000));
  const after = heapUsed();
  const result = {
    kind,
    parked: N,
    heapBytesPerIdleConnection: Math.round((connected - before) / N),
    heapBytesPerParkedRequest: Math.round((after - connected) / N),
    ...(diff ? { largestPerRequest: diff.end(N) } : {}),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  client.kill();
  process.exit(0);
}

void main();
