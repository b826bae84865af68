import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import express from 'express';
import { createApp, type GatewayApp } from '../../src/ingress/http/create-app';
import { createHttpServer, type HttpServerSettings } from '../../src/ingress/http/create-http-server';
import { queryOf } from '../../src/ingress/http/request-target';
import { sendJson } from '../../src/ingress/http/send-json';
import { GatewayMetrics } from '../../src/observability/gateway-metrics';
import { Readiness } from '../../src/observability/readiness';
import { silentLogger } from '../../src/observability/logger';
import { ConfigError } from '../../src/errors/startup-errors';
import { waitFor } from '../support/wait-for';
import { createHarness } from './gateway-harness';

const SETTINGS: HttpServerSettings = {
  tlsCertFile: undefined,
  tlsKeyFile: undefined,
  headersTimeoutMs: 1000,
  requestTimeoutMs: 1500,
  trustProxy: false,
};

/**
 * `/ip` is a route (served on node's request, without express); `/admin/ip` a reserved path,
 * served by an express router: both answer the client address they see.
 */
function app(): GatewayApp {
  const admin = express.Router();
  admin.get('/admin/ip', (req, res) => {
    res.json({ ip: req.ip });
  });
  return createApp({
    readiness: new Readiness(),
    metrics: new GatewayMetrics(),
    log: silentLogger(),
    routers: [admin],
    gatewayHandler: (_req, res, target) => {
      sendJson(res, 200, { ip: target.clientIp, path: target.path, query: { ...queryOf(target.search) } });
      return Promise.resolve();
    },
  });
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

  /** What a raw socket reads until the server closes it. */
  function readUntilClose(socket: ReturnType<typeof connect>): Promise<string> {
    return new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', () => undefined);
    });
  }

  /** The JSON problem body at the end of a raw HTTP answer. */
  function problemOf(answer: string): Record<string, unknown> {
    return JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
  }

  describe('slow clients get 408 RG_REQUEST_TIMEOUT with a problem body, counted apart from malformed requests', () => {
    const routes = 'routes:\n  - { name: create, method: POST, path: /orders, topic: orders.create }\n';

    async function withGateway(test: (port: number, h: ReturnType<typeof createHarness>) => Promise<void>) {
      const h = createHarness(routes);
      const server = createHttpServer(h.app, SETTINGS, h.metrics);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        await test((server.address() as AddressInfo).port, h);
      } finally {
        server.close();
      }
    }

    async function clientErrors(h: ReturnType<typeof createHarness>): Promise<Record<string, number>> {
      const out: Record<string, number> = {};
      for (const v of (await h.metrics.clientErrors.get()).values) out[String(v.labels['reason'])] = v.value;
      return out;
    }

    it('a client that trickles its headers', async function () {
      this.timeout(10_000);
      await withGateway(async (port, h) => {
        const socket = connect(port, '127.0.0.1');
        const answer = readUntilClose(socket);
        socket.write('POST /orders HTTP/1.1\r\nHost: x\r\n'); // and then nothing more
        const text = await answer;
        expect(text).to.match(/^HTTP\/1\.1 408 Request Timeout\r\n/);
        expect(text).to.match(/content-type: application\/problem\+json/);
        expect(problemOf(text)).to.deep.include({
          status: 408,
          error: 'RG_REQUEST_TIMEOUT',
          details: { phase: 'headers' },
        });
        expect(await clientErrors(h)).to.deep.equal({ timeout: 1 });
        expect(h.publisher.published).to.have.length(0);
      });
    });

    it('a client that trickles its body', async function () {
      this.timeout(10_000);
      await withGateway(async (port, h) => {
        const socket = connect(port, '127.0.0.1');
        const answer = readUntilClose(socket);
        socket.write(
          'POST /orders HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"a":',
        );
        const text = await answer;
        expect(text).to.match(/^HTTP\/1\.1 408 Request Timeout\r\n/);
        expect(problemOf(text)).to.deep.include({
          status: 408,
          error: 'RG_REQUEST_TIMEOUT',
          details: { phase: 'body' },
        });
        expect(await clientErrors(h)).to.deep.equal({ timeout: 1 });
        // The handler's body read fails too, and records the request as the 408 it was, not a 400 abort.
        await waitFor(
          async () => (await h.metrics.requests.get()).values.find((v) => v.labels['route'] === 'create'),
          2000,
          'the route request counted',
        );
        const counted = (await h.metrics.requests.get()).values.map(
          (v) => `${v.labels['route']} ${v.labels['status']}`,
        );
        expect(counted).to.deep.equal(['create 408']);
        expect(h.publisher.published).to.have.length(0);
      });
    });

    it('a malformed request is a 400 RG_BAD_REQUEST, counted as malformed', async () => {
      await withGateway(async (port, h) => {
        const socket = connect(port, '127.0.0.1');
        const answer = readUntilClose(socket);
        socket.write('THIS IS NOT HTTP\r\n\r\n');
        const text = await answer;
        expect(text).to.match(/^HTTP\/1\.1 400 Bad Request\r\n/);
        expect(problemOf(text)).to.deep.include({ status: 400, error: 'RG_BAD_REQUEST' });
        expect(await clientErrors(h)).to.deep.equal({ malformed: 1 });
      });
    });
  });

  it('serves a route asked for in absolute form (GET http://host/path) through express, as in origin form', async () => {
    const server = createHttpServer(app(), SETTINGS);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString()));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
        socket.write(`GET http://127.0.0.1:${port}/ip?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      });
      expect(answer).to.match(/^HTTP\/1\.1 200 /);
      expect(answer.toLowerCase()).to.include('x-content-type-options: nosniff');
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as {
        ip: string;
        path: string;
        query: unknown;
      };
      expect(body.ip).to.match(/127\.0\.0\.1$/);
      expect(body.path).to.equal('/ip');
      expect(body.query).to.deep.equal({ x: '1' });
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
        // a route (node's request, proxy-addr) and a reserved path (express' req.ip) agree
        for (const path of ['/ip', '/admin/ip']) {
          const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`, {
            headers: { 'x-forwarded-for': '203.0.113.9' },
          });
          // helmet's headers on both: the server's own response class, and express' response
          expect(res.headers.get('x-content-type-options'), path).to.equal('nosniff');
          expect(((await res.json()) as { ip: string }).ip, `${path}, trust ${String(trustProxy)}`).to.match(
            new RegExp(`${expected.replace(/\./g, '\\.')}$`),
          );
        }
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
