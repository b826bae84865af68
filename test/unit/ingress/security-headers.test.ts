import type { ServerResponse } from 'node:http';
import { expect } from 'chai';
import express from 'express';
import helmet from 'helmet';
import request from 'supertest';
import { helmetDefaultHeaders, installSecurityHeaders } from '../../../src/ingress/http/security-headers';

describe('security headers (helmet defaults, added as the response is written)', () => {
  function app(): express.Express {
    const a = express();
    a.disable('x-powered-by');
    installSecurityHeaders(a.response as ServerResponse);
    a.get('/json', (_req, res) => void res.json({ ok: true }));
    a.get('/own-frame-policy', (_req, res) => {
      res.setHeader('x-frame-options', 'DENY');
      res.end('mine');
    });
    a.get('/write-head', (_req, res) => {
      res.writeHead(201, { 'content-type': 'text/plain' });
      res.end('explicit');
    });
    a.get('/streamed', (_req, res) => {
      res.write('a');
      res.end('b');
    });
    return a;
  }

  it('sets exactly the headers app.use(helmet()) sets', async () => {
    const reference = express();
    reference.use(helmet());
    reference.get('/json', (_req, res) => void res.json({ ok: true }));
    const expected = await request(reference).get('/json');
    const got = await request(app()).get('/json');
    for (const [name] of helmetDefaultHeaders()) expect(got.headers[name], name).to.equal(expected.headers[name]);
    expect(helmetDefaultHeaders().map(([n]) => n)).to.include.members([
      'content-security-policy',
      'strict-transport-security',
      'x-content-type-options',
      'x-frame-options',
    ]);
  });

  it('on every way of writing a response: json, writeHead with headers, streamed, 404', async () => {
    for (const path of ['/json', '/write-head', '/streamed', '/missing']) {
      const res = await request(app()).get(path);
      expect(res.headers['x-content-type-options'], path).to.equal('nosniff');
      expect(res.headers['content-security-policy'], path).to.be.a('string');
    }
    expect((await request(app()).get('/write-head')).status).to.equal(201);
  });

  it("leaves a header the handler set itself as the handler's", async () => {
    const res = await request(app()).get('/own-frame-policy');
    expect(res.headers['x-frame-options']).to.equal('DENY');
    expect(res.headers['referrer-policy']).to.equal('no-referrer');
  });
});
