/**
 * The same measurement as parked-heap.ts for bare HTTP stacks that park a request and never
 * answer, so a gateway's own share can be told apart from what node's HTTP server (and express +
 * helmet) cost anyway.
 *   node --expose-gc --import tsx bench/memory/baseline-http.ts node|node-helmet|express-nohelmet|express-use|express [N] [--snapshot]
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import helmet from 'helmet';
import { measureParking } from './parking-client';

const kind = process.argv[2] ?? 'node';
const N = Number(process.argv.slice(3).find((a) => /^\d+$/.test(a)) ?? 5_000);

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
  const measured = await measureParking(
    port,
    N,
    () => parked,
    process.argv.includes('--snapshot') ? `baseline-${kind}` : undefined,
  );
  const result = { kind, ...measured };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.exit(0);
}

void main();
