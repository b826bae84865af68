import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Cluster } from 'ioredis';
import type { Responder } from '../../src/responder/responder-options';
import { ReplyKeys } from '../../src/protocol/reply-keys';
import { keySlot } from '../../src/redis/key-slot';
import {
  createTopics,
  gatewayEnv,
  startEcho,
  startReplica,
  uniqueGatewayNames,
  writeRoutes,
  type GatewayNames,
} from '../support/gateway-fixture';
import type { ChildReplica } from '../support/processes';
import { startPrivateRedisCluster, type PrivateRedisCluster } from '../support/private-redis-cluster';
import { useTestStack, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';
import { waitFor } from '../support/wait-for';
import { DEADLINE_READ_MS } from '../../src/exchange/pending-registry';

/** The route timeout: every reply must come well before it (woken, not found by the deadline read). */
const ROUTE_TIMEOUT_MS = 15_000;
/** A burst of 50 on a shared 2-core machine takes up to ~3 s end to end; a deadline read takes 15. */
const PROMPT_MS = 6000;

/**
 * The wake on a Redis Cluster of three masters and three replicas: an `http` replica that relays
 * nothing and a `relay` that serves nothing, so every reply crosses through the cluster. Reply
 * keys spread over every slot, hence every master; a reply must wake its request at once from any
 * of them, also after a master is SIGKILLed and its replica promoted.
 */
describe('integration: Redis Cluster (REDIS_CLUSTER_NODES)', function () {
  this.timeout(120_000);

  let stack: TestStack;
  let cluster: PrivateRedisCluster;
  let names: GatewayNames;
  let http: ChildReplica;
  let relay: ChildReplica;
  let echo: Responder;
  let client: Cluster;
  let receiver: Server;
  const callbacks: { path: string; body: string }[] = [];
  const topic = unique('cluster.echo');

  before(async function () {
    stack = await useTestStack();
    cluster = await startPrivateRedisCluster();
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        callbacks.push({ path: req.url ?? '', body });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const receiverBase = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    names = uniqueGatewayNames('cluster');
    await createTopics(stack, [topic, names.replyTopic]);
    const routes = writeRoutes(`
routes:
  - name: echo
    method: POST
    path: /echo/:id
    topic: ${topic}
    timeoutMs: ${ROUTE_TIMEOUT_MS}
  - name: hooked
    method: POST
    path: /hooked/:id
    topic: ${topic}
    callbacks: { url: "${receiverBase}/hooks", secret: "cluster-test-secret-0123456789abcdef", attempts: 3, backoffMs: 100 }
`);
    const env = gatewayEnv(stack, names, {
      REPLYGATE_ROUTES: routes,
      REDIS_URL: '',
      REDIS_CLUSTER_NODES: cluster.nodes,
      LOG_LEVEL: 'info',
      REPLYGATE_NOTIFY_CHECK_INTERVAL_MS: '300',
      // The canaries alone judge the notifications (no CONFIG read that would name a bad master at once).
      REPLYGATE_REDIS_CHECK: 'false',
    });
    [http, relay] = await Promise.all([startReplica('http', env), startReplica('relay', env)]);
    echo = await startEcho(stack, topic);
    client = new Cluster(cluster.nodes.split(',').map((a) => ({ host: '127.0.0.1', port: Number(a.split(':')[1]) })));
  });

  after(async function () {
    client?.disconnect();
    await new Promise((r) => receiver?.close(r));
    await Promise.allSettled([http?.stop(), relay?.stop(), echo?.stop()]);
    await cluster?.stop();
  });

  /** Send `n` requests at once; each answer's status, latency and correlation id. */
  async function burst(n: number, tag: string) {
    return Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const started = Date.now();
        const res = await fetch(`http://127.0.0.1:${http.port}/echo/${tag}-${i}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ i, tag }),
        });
        const body = await res.text();
        return {
          status: res.status,
          ms: Date.now() - started,
          body,
          i,
          correlationId: res.headers.get('x-correlation-id') ?? '',
        };
      }),
    );
  }

  /** The master serving the slot of each reply key, as the cluster's slot map says now. */
  async function mastersOf(correlationIds: string[]): Promise<Set<string>> {
    await new Promise((resolve) => client.refreshSlotsCache(resolve));
    const keys = new ReplyKeys(names.keyPrefix);
    const out = new Set<string>();
    for (const id of correlationIds) {
      const master = client.slots[keySlot(keys.reply(id))]?.[0];
      if (master !== undefined) out.add(master);
    }
    return out;
  }

  function resyncLines(): string[] {
    return http.output.filter((l) => l.includes('resyncing pending requests') || l.includes('resync'));
  }

  it('answers 50 requests at once whose reply keys land on all three masters, each woken by its notification', async function () {
    const results = await burst(50, 'a');
    for (const r of results) {
      expect(r.status, r.body).to.equal(200);
      expect((JSON.parse(r.body) as { body: unknown }).body).to.deep.equal({ i: r.i, tag: 'a' });
      expect(r.ms, `request ${r.i} took ${r.ms} ms of a ${ROUTE_TIMEOUT_MS} ms timeout`).to.be.below(PROMPT_MS);
    }
    const masters = await mastersOf(results.map((r) => r.correlationId));
    expect([...masters].sort()).to.deep.equal((await cluster.masters()).sort());
    expect(masters.size).to.equal(3);
    // Nothing was found by a resync read: every wake came from the keyspace notification.
    expect(resyncLines(), http.output.slice(-20).join('\n')).to.deep.equal([]);
  });

  it('async records, idempotency keys and BullMQ callbacks work on the cluster ({prefix-bull} queue)', async function () {
    const post = (id: string) =>
      fetch(`http://127.0.0.1:${http.port}/hooked/${id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', prefer: 'respond-async', 'idempotency-key': `k-${id}` },
        body: JSON.stringify({ id }),
      });
    const ids = Array.from({ length: 6 }, (_, i) => `h${i}`);
    const accepted = await Promise.all(ids.map(post));
    for (const res of accepted) expect(res.status).to.equal(202);
    // The same idempotency key again: the same record, not a second request.
    const again = await post('h0');
    expect(again.headers.get('location')).to.equal(accepted[0]!.headers.get('location'));
    await waitFor(() => callbacks.length >= ids.length, 20_000, 'every callback POSTed', 100);
    expect(
      new Set(callbacks.map((c) => (JSON.parse(c.body) as { correlationId?: string }).correlationId)).size,
    ).to.equal(ids.length);
    const fetched = await fetch(`http://127.0.0.1:${http.port}${accepted[1]!.headers.get('location')!}`, {
      headers: { 'replygate-reply-token': accepted[1]!.headers.get('replygate-reply-token')! },
    });
    expect(fetched.status).to.equal(200);
    // BullMQ's keys share one slot: its Lua scripts would fail with CROSSSLOT otherwise.
    const bullKeys = await Promise.all(
      client.nodes('master').map(async (n) => (await n.keys(`{${names.keyPrefix.replace(/:+$/, '')}-bull}:*`)).length),
    );
    expect(bullKeys.filter((n) => n > 0)).to.have.length(1);
  });

  it('one master loses notify-keyspace-events: its canary goes unnotified and /readyz turns 503 until it is back', async function () {
    const readyz = async () => (await fetch(`http://127.0.0.1:${http.port}/readyz`)).status;
    expect(await readyz()).to.equal(200);
    // Not the master of the plain canary's slot: only a canary per master can notice this one.
    const plainCanarySlot = keySlot(new ReplyKeys(names.keyPrefix).reply(`${http.instanceId}.~canary`));
    await new Promise((resolve) => client.refreshSlotsCache(resolve));
    const other = client.nodes('master').find((n) => {
      const owner = client.slots[plainCanarySlot]?.[0];
      return `${n.options.host}:${n.options.port}` !== owner;
    })!;
    // The replica's own CONFIG check is off for this (REPLYGATE_REDIS_CHECK would name it at once).
    await other.config('SET', 'notify-keyspace-events', '');
    try {
      await waitFor(async () => (await readyz()) === 503, 10_000, '/readyz 503 after a master lost K$', 100);
    } finally {
      await other.config('SET', 'notify-keyspace-events', 'K$');
    }
    await waitFor(async () => (await readyz()) === 200, 10_000, '/readyz 200 once the flags are back', 100);
  });

  it('a master SIGKILLed: its replica is promoted and subscribed, no request hangs, replies from every master wake at once again', async function () {
    const before = await cluster.masters();
    const victim = before[0]!;
    await cluster.kill(Number(victim.split(':')[1]));
    // Requests sent during the failover: answered (a reply on the dead master waits for the
    // promotion, then the resync or the new subscription wakes it) or refused 503, never 504.
    const during = await burst(20, 'b');
    for (const r of during) {
      expect([200, 503], `${r.status} ${r.body}`).to.include(r.status);
      // A request whose reply sat on the dead master ends at its deadline, whose last read is
      // bounded by DEADLINE_READ_MS (then 503); the rest is this process' scheduling.
      expect(r.ms).to.be.below(ROUTE_TIMEOUT_MS + DEADLINE_READ_MS + 2_000);
    }
    await waitFor(
      async () => {
        const m = await cluster.masters();
        return m.length === 3 && !m.includes(victim);
      },
      // cluster-node-timeout is 1 s, but the election waits for the other masters' votes, slow on a busy machine.
      60_000,
      'the replica of the killed master promoted',
      100,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}; CLUSTER NODES now:\n${await cluster.nodesView()}`);
    });
    await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${http.port}/readyz`);
        return res.status === 200;
      },
      15_000,
      'the http replica ready again',
      100,
    );
    const after = await burst(50, 'c');
    for (const r of after) {
      expect(r.status, r.body).to.equal(200);
      expect(r.ms, `request ${r.i} after the failover took ${r.ms} ms`).to.be.below(PROMPT_MS);
    }
    const masters = await mastersOf(after.map((r) => r.correlationId));
    expect(masters.size).to.equal(3);
    expect([...masters]).to.not.include(victim);
    // The promoted replica has a run_id no master had: the relay re-wrote the recent replies.
    expect(relay.output.some((l) => l.includes('new run_id'))).to.equal(true);
  });
});
