import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import express from 'express';
import { createHttpServer, type HttpServerSettings } from '../../src/http/create-http-server';
import { ConfigError } from '../../src/errors';

const SETTINGS: HttpServerSettings = {
  tlsCertFile: undefined,
  tlsKeyFile: undefined,
  headersTimeoutMs: 1000,
  requestTimeoutMs: 1500,
  trustProxy: false,
};

function app(): express.Express {
  const a = express();
  a.get('/ip', (req, res) => {
    res.json({ ip: req.ip });
  });
  return a;
}

describe('HTTP server hardening', () => {
  it('answers 408 and closes a client that never finishes its headers', async function () {
    this.timeout(10_000);
    const server = createHttpServer(app(), SETTINGS);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      socket.write('GET /ip HTTP/1.1\r\nHost: x\r\n'); // and then nothing: a slowloris
      const started = Date.now();
      const answer = await new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString()));
        socket.on('close', () => resolve(text));
      });
      expect(answer).to.match(/^HTTP\/1\.1 408/);
      expect(Date.now() - started).to.be.below(5000);
    } finally {
      server.close();
    }
  });

  it('takes the client IP from X-Forwarded-For only when the proxy is trusted', async () => {
    for (const [trustProxy, expected] of [
      [false, '127.0.0.1'],
      [['loopback'], '203.0.113.9'],
    ] as const) {
      const server = createHttpServer(app(), { ...SETTINGS, trustProxy: trustProxy as false | string[] });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/ip`, {
          headers: { 'x-forwarded-for': '203.0.113.9' },
        });
        expect(((await res.json()) as { ip: string }).ip).to.match(new RegExp(`${expected.replace(/\./g, '\\.')}$`));
      } finally {
        server.close();
      }
    }
  });

  it('refuses a certificate without its key', () => {
    expect(() => createHttpServer(app(), { ...SETTINGS, tlsCertFile: '/tmp/cert.pem' })).to.throw(
      ConfigError,
      /REPLYGATE_TLS_CERT_FILE/,
    );
  });

  it('serves https with REPLYGATE_TLS_CERT_FILE and REPLYGATE_TLS_KEY_FILE', async function () {
    let hasOpenssl = true;
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
    } catch {
      hasOpenssl = false;
    }
    if (!hasOpenssl) this.skip();
    // A throw-away self-signed certificate, made now: no private key is committed.
    const dir = mkdtempSync(join(tmpdir(), 'replygate-tls-'));
    try {
      const cert = join(dir, 'cert.pem');
      const key = join(dir, 'key.pem');
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-keyout',
          key,
          '-out',
          cert,
        ],
        { stdio: 'ignore' },
      );
      const server = createHttpServer(app(), { ...SETTINGS, tlsCertFile: cert, tlsKeyFile: key });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const body = await new Promise<string>((resolve, reject) => {
          get(
            { host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/ip', rejectUnauthorized: false },
            (res) => {
              let text = '';
              res.on('data', (d: Buffer) => (text += d.toString()));
              res.on('end', () => resolve(text));
            },
          ).on('error', reject);
        });
        expect(body).to.include('"ip"');
      } finally {
        server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
