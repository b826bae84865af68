import { EventEmitter } from 'node:events';
import { expect } from 'chai';
import type { WebSocket } from 'ws';
import { parseRoutes } from '../../../src/config/routes-file';
import { ReplygateError } from '../../../src/errors/replygate-error';
import { RouteMatcher } from '../../../src/routing/route-matcher';
import { silentLogger } from '../../../src/observability/logger';
import { buildWsRequest } from '../../../src/ingress/ws/ws-request';
import { parseRequestFrame, replyFrame } from '../../../src/ingress/ws/ws-frame';
import { WsSession } from '../../../src/ingress/ws/ws-session';
import { type WsGatewayDeps } from '../../../src/ingress/ws/ws-gateway-deps';

const [route] = parseRoutes(
  'routes:\n  - { name: echo, method: POST, path: /echo/:id, topic: t, key: body.k, maxBodyBytes: 64 }\n',
  { timeoutMs: 1000, maxBodyBytes: 1024, forwardHeaders: ['x-request-id'] },
);

describe('WebSocket frames', () => {
  it('parses a request frame, lower-casing header names', () => {
    const frame = parseRequestFrame(
      '{"id":"a","method":"post","path":"/echo/1?x=1","headers":{"X-Request-Id":"r"},"body":{"k":"v"}}',
    );
    expect(frame).to.deep.equal({
      id: 'a',
      method: 'POST',
      path: '/echo/1?x=1',
      headers: { 'x-request-id': 'r' },
      body: { k: 'v' },
    });
  });

  it('refuses a header value with CR, LF or another control character, without echoing a bad name', () => {
    for (const value of ['a\r\nSet-Cookie: x=1', 'a\nb', 'a\u0000b', 'a\u007fb']) {
      const text = JSON.stringify({ id: 'h', method: 'GET', path: '/', headers: { 'x-request-id': value } });
      expect(() => parseRequestFrame(text), JSON.stringify(value))
        .to.throw(ReplygateError, /control characters/)
        .with.property('details')
        .that.deep.equals({ id: 'h' });
    }
    // A tab is a legal header value character, as in HTTP.
    const tab = JSON.stringify({ id: 1, method: 'GET', path: '/', headers: { 'x-a': 'a\tb' } });
    expect(parseRequestFrame(tab).headers).to.deep.equal({ 'x-a': 'a\tb' });
    const badName = JSON.stringify({ id: 'n', method: 'GET', path: '/', headers: { 'x\r\nSet-Cookie': 'v' } });
    expect(() => parseRequestFrame(badName))
      .to.throw(ReplygateError)
      .with.property('message')
      .that.does.not.include('Set-Cookie');
  });

  it('refuses malformed frames, keeping the id when there is one', () => {
    for (const text of ['nope', '[]', '{"method":"GET","path":"/"}', '{"id":"a","method":"GET","path":"x"}']) {
      expect(() => parseRequestFrame(text), text).to.throw(ReplygateError);
    }
    try {
      parseRequestFrame('{"id":"a","method":"GET","path":"x"}');
    } catch (err) {
      expect((err as ReplygateError).details).to.deep.equal({ id: 'a' });
    }
  });

  it('builds the request like the HTTP handler: JSON body, partition key, forwarded headers, limits', () => {
    const frame = parseRequestFrame(
      '{"id":1,"method":"POST","path":"/echo/7?q=a&q=b","headers":{"x-request-id":"r","x-other":"o"},"body":{"k":"v"}}',
    );
    const req = buildWsRequest(frame, route!, { id: '7' }, 'i.AAAAAAAAAAAAAAAAAAAAAA', 'replies');
    expect(req).to.deep.include({
      path: '/echo/7',
      key: 'v',
      contentType: 'application/json',
      headers: { 'x-request-id': 'r' },
    });
    expect(req.query).to.deep.equal({ q: ['a', 'b'] });
    expect(req.body.toString()).to.equal('{"k":"v"}');
    const big = parseRequestFrame(
      JSON.stringify({ id: 2, method: 'POST', path: '/echo/1', body: { k: 'x'.repeat(100) } }),
    );
    expect(() => buildWsRequest(big, route!, {}, 'i.AAAAAAAAAAAAAAAAAAAAAA', 'replies')).to.throw(/exceeds 64 bytes/);
    const keyless = parseRequestFrame(JSON.stringify({ id: 3, method: 'POST', path: '/echo/1', body: {} }));
    expect(() => buildWsRequest(keyless, route!, {}, 'i.AAAAAAAAAAAAAAAAAAAAAA', 'replies')).to.throw(/Partition key/);
  });

  it('renders replies: JSON parsed, text as text, binary as base64', () => {
    const reply = (contentType: string, body: Buffer) => ({
      status: 201,
      headers: {},
      contentType,
      body,
      receivedAt: 0,
    });
    expect(replyFrame('a', reply('application/json', Buffer.from('{"x":1}'))).body).to.deep.equal({ x: 1 });
    expect(replyFrame('a', reply('text/plain', Buffer.from('hi'))).body).to.equal('hi');
    expect(replyFrame('a', reply('image/png', Buffer.from([1, 2]))).bodyBase64).to.equal('AQI=');
  });
});

/** Enough of a ws WebSocket for a session: buffered bytes the test controls. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  paused = false;
  sent: string[] = [];
  private callbacks: (() => void)[] = [];
  send(data: string, cb: () => void): void {
    this.sent.push(data);
    this.bufferedAmount += data.length;
    this.callbacks.push(cb);
  }
  /** The client read everything. */
  drain(): void {
    this.bufferedAmount = 0;
    for (const cb of this.callbacks.splice(0)) cb();
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
}

describe('WebSocket back-pressure', () => {
  it('stops reading past the buffered limit, refuses frames meanwhile, and resumes once drained', async () => {
    const socket = new FakeSocket();
    const counted: Record<string, string>[] = [];
    const deps = {
      matcher: () => new RouteMatcher([route!]),
      log: silentLogger(),
      maxBufferedBytes: 100,
      maxInFlight: 10,
      metrics: { requests: { inc: (labels: Record<string, string>) => counted.push(labels) } },
    } as unknown as WsGatewayDeps;
    new WsSession(socket as unknown as WebSocket, deps);
    // Errors are frames too: unknown routes fill the buffer without Kafka.
    for (let i = 0; i < 2; i++)
      socket.emit('message', Buffer.from(JSON.stringify({ id: i, method: 'GET', path: '/x' })), false);
    await new Promise((r) => setImmediate(r));
    expect(socket.bufferedAmount).to.be.greaterThan(100);
    expect(socket.paused).to.equal(true);
    socket.emit('message', Buffer.from(JSON.stringify({ id: 'late', method: 'POST', path: '/echo/1' })), false);
    await new Promise((r) => setImmediate(r));
    expect(JSON.parse(socket.sent[2]!)).to.include({ id: 'late', status: 503, error: 'RG_OVERLOADED' });
    // Counted under the route it was for, not as unmatched.
    expect(counted[2]).to.deep.equal({ route: 'echo', status: '503' });
    socket.drain();
    expect(socket.paused).to.equal(false);
  });
});
