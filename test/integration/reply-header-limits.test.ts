import { expect } from 'chai';
import { WebSocket } from 'ws';
import { silentLogger } from '../../src/observability/logger';
import { createResponder } from '../../src/responder/create-responder';
import { type Responder } from '../../src/responder/responder-options';
import type { ChildReplica } from '../support/processes';
import { useTestStack, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';
import { waitFor } from '../support/wait-for';
import {
  createTopics,
  gatewayEnv,
  metricValue,
  metricsOf,
  startReplica,
  uniqueGatewayNames,
  writeRoutes,
} from '../support/gateway-fixture';

/**
 * REPLYGATE_MAX_REPLY_HEADERS reaches every path that answers a reply, not only plain
 * request-reply: a replica started with a cap of 2 refuses a reply with 3 headers on a stream,
 * on `/v1/replies` and over WebSocket (each in its own error form), and counts the headers only
 * the gateway may set wherever it drops them. The default cap (64) would let all of these through.
 */
describe('integration: configured reply header caps on every path', function () {
  this.timeout(120_000);
  let stack: TestStack;
  const topic = unique('hdrcap.requests');
  let replica: ChildReplica;
  let service: Responder;
  const base = () => `http://127.0.0.1:${replica.port}`;

  before(async function () {
    stack = await useTestStack();
    const names = uniqueGatewayNames('hdrcap');
    await createTopics(stack, [topic, names.replyTopic]);
    const routes = writeRoutes(`
routes:
  - { name: plain, method: GET, path: /plain/:n, topic: ${topic}, timeoutMs: 20000 }
  - { name: parts, method: GET, path: /parts/:n, topic: ${topic}, stream: true, timeoutMs: 20000 }
`);
    const env = gatewayEnv(stack, names, {
      REPLYGATE_ROUTES: routes,
      REPLYGATE_MAX_REPLY_HEADERS: '2',
      REPLYGATE_MAX_WAIT_MS: '15000',
      REPLYGATE_WS_ENABLED: 'true',
    });
    replica = await startReplica('all', env);
    // `n` harmless headers, plus X-Frame-Options (the gateway's) with ?deny.
    service = createResponder({
      brokers: stack.kafkaBrokers,
      topic,
      groupId: unique('hdrcap-service'),
      logger: silentLogger(),
      handler: (ctx) => {
        const headers: Record<string, string> = {};
        for (let i = 0; i < Number(ctx.params['n']); i++) headers[`x-h${i}`] = String(i);
        if (ctx.query['deny'] !== undefined) headers['X-Frame-Options'] = 'ALLOWALL';
        if (ctx.route === 'parts') return { headers, parts: [{ i: 0 }, { i: 1 }] };
        return { headers, body: { ok: true } };
      },
    });
    await service.start();
  });

  after(async function () {
    await service?.stop();
    await replica?.stop();
  });

  const dropped = async (family: string) =>
    metricValue(await metricsOf(replica), 'replygate_reply_headers_dropped_total', { family });

  it('answers a plain request 502 naming REPLYGATE_MAX_REPLY_HEADERS', async function () {
    const res = await fetch(`${base()}/plain/3`);
    expect(res.status).to.equal(502);
    const body = (await res.json()) as { error: string; detail: string };
    expect(body.error).to.equal('RG_REPLY_MALFORMED');
    expect(body.detail).to.contain('at most 2').and.to.contain('REPLYGATE_MAX_REPLY_HEADERS');
  });

  it('ends every part of a stream over the cap with an RG_REPLY_MALFORMED line', async function () {
    const ok = await fetch(`${base()}/parts/2`);
    expect(ok.status).to.equal(200);
    expect(ok.headers.get('x-h1')).to.equal('1');
    expect((await ok.text()).trim().split('\n')).to.have.length(2);

    const res = await fetch(`${base()}/parts/3`);
    expect(res.status).to.equal(200); // no part usable: the stream's error form is per line
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; error?: string; detail?: string });
    expect(lines.map((l) => [l.seq, l.error])).to.deep.equal([
      [0, 'RG_REPLY_MALFORMED'],
      [1, 'RG_REPLY_MALFORMED'],
    ]);
    expect(lines[0]!.detail).to.contain('at most 2').and.to.contain('REPLYGATE_MAX_REPLY_HEADERS');
    expect(res.headers.get('x-h0')).to.equal(null);
  });

  it('counts a header only the gateway may set when a stream drops it', async function () {
    const before = await dropped('security');
    const res = await fetch(`${base()}/parts/1?deny=1`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('x-h0')).to.equal('0');
    expect(res.headers.get('x-frame-options')).to.not.equal('ALLOWALL');
    await res.text();
    // Two parts, each carrying the header: each drop is counted.
    expect((await dropped('security')) - before).to.equal(2);
  });

  it('answers a fetched reply over the cap 502 on /v1/replies, and counts drops there', async function () {
    const fetchReply = async (path: string): Promise<Response> => {
      const accepted = await fetch(`${base()}${path}`, { headers: { prefer: 'respond-async' } });
      expect(accepted.status).to.equal(202);
      const token = accepted.headers.get('replygate-reply-token')!;
      return fetch(`${base()}${accepted.headers.get('location')!}`, {
        headers: { prefer: 'wait=10', 'replygate-reply-token': token },
      });
    };
    const refused = await fetchReply('/plain/3');
    expect(refused.status).to.equal(502);
    const body = (await refused.json()) as { error: string; detail: string };
    expect(body.error).to.equal('RG_REPLY_MALFORMED');
    expect(body.detail).to.contain('REPLYGATE_MAX_REPLY_HEADERS');

    const before = await dropped('security');
    const kept = await fetchReply('/plain/1?deny=1');
    expect(kept.status).to.equal(200);
    expect(kept.headers.get('x-h0')).to.equal('0');
    expect(kept.headers.get('x-frame-options')).to.not.equal('ALLOWALL');
    expect((await dropped('security')) - before).to.equal(1);
  });

  it('answers a WebSocket frame over the cap with a 502 error frame', async function () {
    const ws = new WebSocket(`ws://127.0.0.1:${replica.port}/v1/ws`);
    const frames: { id: string; status: number; error?: string; detail?: string }[] = [];
    ws.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString('utf8')) as (typeof frames)[number]));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    try {
      ws.send(JSON.stringify({ id: 'over', method: 'GET', path: '/plain/3', headers: {} }));
      ws.send(JSON.stringify({ id: 'at', method: 'GET', path: '/plain/2', headers: {} }));
      await waitFor(() => frames.length === 2, 15_000, 'two WebSocket answers');
      const byId = Object.fromEntries(frames.map((f) => [f.id, f]));
      expect(byId['over']).to.deep.include({ status: 502, error: 'RG_REPLY_MALFORMED' });
      expect(byId['over']!.detail).to.contain('REPLYGATE_MAX_REPLY_HEADERS');
      expect(byId['at']!.status).to.equal(200);
    } finally {
      ws.close();
    }
  });
});
