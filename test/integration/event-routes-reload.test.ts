import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import type { Producer } from 'kafkajs';
import { WebSocket } from 'ws';
import type { ChildReplica } from '../support/processes';
import { useTestStack, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';
import { waitFor } from '../support/wait-for';
import {
  createTopics,
  gatewayEnv,
  startReplica,
  testKafka,
  uniqueGatewayNames,
  writeRoutes,
} from '../support/gateway-fixture';

const ADMIN_TOKEN = 'event-routes-admin-token-0123456789';

/**
 * Event routes over WebSocket, and a route reload that adds an event topic: one `all` replica
 * (its own relay reads the events), the events produced by a plain kafkajs producer.
 */
describe('integration: event routes over WebSocket and across a routes reload', function () {
  this.timeout(60_000);

  let stack: TestStack;
  let replica: ChildReplica;
  let producer: Producer;
  let routesFile: string;
  const thingEvents = unique('things.events');
  const gadgetEvents = unique('gadgets.events');

  const routesYaml = (extra = '') => `
routes:
  - name: getThing
    method: GET
    path: /things/:id
    timeoutMs: 20000
    await: { topic: ${thingEvents}, match: { value.id: params.id }, state: { field: value.state, in: [READY] } }
${extra}`;

  before(async function () {
    this.timeout(120_000);
    stack = await useTestStack();
    const names = uniqueGatewayNames('evreload');
    await createTopics(stack, [thingEvents, gadgetEvents, names.replyTopic]);
    routesFile = writeRoutes(routesYaml());
    const env = gatewayEnv(stack, names, {
      REPLYGATE_ROUTES: routesFile,
      REPLYGATE_EVENT_GROUP: unique('evreload'),
      REPLYGATE_WS_ENABLED: 'true',
      REPLYGATE_ADMIN_TOKEN: ADMIN_TOKEN,
    });
    replica = await startReplica('all', env);
    producer = testKafka(stack).producer();
    await producer.connect();
  });

  after(async function () {
    await replica?.stop();
    await producer?.disconnect();
  });

  const emit = (topic: string, value: unknown) =>
    producer.send({ topic, messages: [{ value: JSON.stringify(value) }] });

  it('answers a WebSocket frame on an event route when the entity reaches the state', async function () {
    const id = unique('t');
    const ws = new WebSocket(`ws://127.0.0.1:${replica.port}/v1/ws`);
    const frames: { id: string; status: number; body: unknown }[] = [];
    ws.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString('utf8')) as (typeof frames)[number]));
    await new Promise<void>((res, rej) => ws.once('open', res).once('error', rej));
    try {
      ws.send(JSON.stringify({ id: 'f1', method: 'GET', path: `/things/${id}`, headers: {} }));
      // Not READY yet, then READY: only the second answers (kept, if it lands before the frame registers).
      await emit(thingEvents, { id, state: 'NEW' });
      await emit(thingEvents, { id, state: 'READY' });
      await waitFor(() => frames.length > 0, 15_000, 'the reply frame');
      expect(frames[0]).to.deep.include({ id: 'f1', status: 200, body: { id, state: 'READY' } });
    } finally {
      ws.close();
    }
  });

  it('follows a reload that adds a route on a new event topic', async function () {
    writeFileSync(
      routesFile,
      routesYaml(`  - name: getGadget
    method: GET
    path: /gadgets/:id
    timeoutMs: 20000
    await: { topic: ${gadgetEvents}, match: { key: params.id } }
`),
    );
    const reload = await fetch(`http://127.0.0.1:${replica.port}/admin/reload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(reload.status).to.equal(200);
    const id = unique('g');
    const answer = fetch(`http://127.0.0.1:${replica.port}/gadgets/${id}`);
    // The relay re-subscribes within a second; keep emitting until the waiter is answered.
    let settled = false;
    void answer.then(() => (settled = true));
    await waitFor(
      async () => {
        await producer.send({ topic: gadgetEvents, messages: [{ key: id, value: JSON.stringify({ id, n: 1 }) }] });
        return settled;
      },
      20_000,
      'the new event topic read',
      500,
    );
    const res = await answer;
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ id, n: 1 });
  });
});
