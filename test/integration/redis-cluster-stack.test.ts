import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'chai';
import { parseStackEnv } from '../../examples/demo/stack-env';
import { ReplyKeys } from '../../src/protocol/reply-keys';
import { keySlot } from '../../src/redis/key-slot';
import type { Responder } from '../../src/responder/responder-options';
import {
  createTopics,
  gatewayEnv,
  startEcho,
  startReplica,
  uniqueGatewayNames,
  writeRoutes,
} from '../support/gateway-fixture';
import type { ChildReplica } from '../support/processes';
import { serveToExit } from '../support/run-to-exit';
import { ownStack } from '../support/own-stack';
import { serversOf, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';

const ROUTE_TIMEOUT_MS = 20_000;

/**
 * The Cluster shape as an operator runs it on a managed service: three masters and three replicas
 * (`STACK_REDIS_SHAPE=cluster`), an ACL user with only the gateway's permissions (`STACK_REDIS_ACL=1`,
 * default user off) and TLS on clients, replication and the cluster bus (`STACK_REDIS_TLS=1`), in a
 * stack of this file's own. The gateways get exactly the settings `scripts/stack.sh env` prints
 * (REDIS_CLUSTER_NODES, REDIS_USERNAME, REDIS_PASSWORD_FILE, REDIS_TLS, REDIS_TLS_CA_FILE). Replies
 * whose keys live on every master must wake their request at once (the per-master subscriptions
 * work as the ACL user over TLS), not at the deadline; a wrong password fails the start-up clearly.
 */
describe('integration: Redis Cluster with an ACL user over TLS', function () {
  this.timeout(240_000);

  // The ACL grants this prefix only (STACK_REDIS_ACL_KEY_PREFIX): the gateways must use it.
  const names = { ...uniqueGatewayNames('rcluster'), keyPrefix: `${unique('rcl')}:` };
  const topic = unique('rcluster.echo');
  const { dir, stackSh } = ownStack('rcluster', {
    STACK_REDIS_SHAPE: 'cluster',
    STACK_REDIS_ACL: '1',
    STACK_REDIS_TLS: '1',
    STACK_REDIS_ACL_KEY_PREFIX: names.keyPrefix,
  });
  let own: TestStack;
  let vars: Record<string, string>;
  let gw: Record<string, string>;
  let echo: Responder | undefined;
  const replicas: ChildReplica[] = [];

  before(async function () {
    try {
      vars = parseStackEnv((await stackSh('up')).stdout);
    } catch (err) {
      await stackSh('down').catch(() => undefined);
      throw err;
    }
    own = { ...serversOf(vars), source: 'local', stop: async () => undefined };
    expect(own.redisShape).to.equal('cluster');
    await createTopics(own, [topic, names.replyTopic]);
    echo = await startEcho(own, topic);
    const routes = writeRoutes(`
routes:
  - { name: echo, method: POST, path: /echo/:id, topic: ${topic}, key: params.id, timeoutMs: ${ROUTE_TIMEOUT_MS} }
`);
    gw = gatewayEnv(own, names, {
      REPLYGATE_ROUTES: routes,
      // the ACL user may not CONFIG SET: the stack set notify-keyspace-events on every node itself
      REPLYGATE_REDIS_CONFIGURE: 'false',
      LOG_LEVEL: 'info',
    }) as Record<string, string>;
    replicas.push(
      ...(await Promise.all([startReplica('http', gw), startReplica('http', gw), startReplica('relay', gw)])),
    );
  });

  after(async function () {
    this.timeout(60_000);
    await Promise.allSettled(replicas.map((r) => r.stop(5_000)));
    await echo?.stop();
    await stackSh('down').catch(() => undefined);
  });

  it('gets the cluster settings from stack.sh: seed nodes, ACL user, TLS, no REDIS_URL', function () {
    expect(vars).to.include({ STACK_REDIS_TOPOLOGY: 'cluster', REDIS_USERNAME: 'replygate', REDIS_TLS: 'true' });
    expect(vars['REDIS_CLUSTER_NODES']?.split(',').length).to.be.at.least(3);
    expect(vars).to.not.have.property('REDIS_URL');
    for (const k of ['REDIS_PASSWORD_FILE', 'REDIS_TLS_CA_FILE']) expect(vars[k], k).to.be.a('string');
  });

  it('answers at once, not at the deadline, for reply keys on every master, as the ACL user over TLS', async function () {
    const https = replicas.slice(0, 2); // (the third is the relay: no routes)
    const ids = Array.from({ length: 40 }, (_, i) => `c${i}`);
    const results = await Promise.all(
      ids.map(async (id, i) => {
        const started = Date.now();
        const res = await fetch(`http://127.0.0.1:${https[i % 2]!.port}/echo/${id}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id }),
        });
        const body = await res.text();
        return {
          id,
          status: res.status,
          body,
          ms: Date.now() - started,
          cid: res.headers.get('x-correlation-id') ?? '',
        };
      }),
    );
    for (const r of results) {
      expect(r.status, `${r.id}: ${r.body}`).to.equal(200);
      expect((JSON.parse(r.body) as { body?: { id?: string } }).body?.id, r.body).to.equal(r.id);
      // The last read at the deadline would answer after ROUTE_TIMEOUT_MS: half of it is a wake.
      expect(r.ms, `${r.id} answered after ${r.ms} ms: woken by the deadline read, not a notification`).to.be.below(
        ROUTE_TIMEOUT_MS / 2,
      );
    }
    // The fault this guards against needs replies on more than one master: they were on all three
    // (`redis-cli --cluster create` with three masters splits the slots into these ranges; this
    // stack is never resharded).
    const keys = new ReplyKeys(names.keyPrefix);
    const rangeOf = (slot: number): number => (slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2);
    const masters = new Set(results.map((r) => rangeOf(keySlot(keys.reply(r.cid)))));
    expect(masters.size, 'masters holding the reply keys').to.equal(3);
  });

  it('a wrong password: start-up fails naming REDIS_USERNAME / REDIS_PASSWORD_FILE, not the password', async function () {
    const wrongFile = resolve(dir, 'wrong-password');
    const wrong = `wrong-${unique('pw')}`;
    writeFileSync(wrongFile, `${wrong}\n`, { mode: 0o600 });
    const run = await serveToExit({ ...gw, REDIS_PASSWORD_FILE: wrongFile, PORT: '0' }, [], 60_000);
    expect(run.code, run.text).to.equal(1);
    expect(run.text).to.include('REDIS_USERNAME (--redis-username) / REDIS_PASSWORD_FILE (--redis-password-file)');
    expect(run.text).to.match(/WRONGPASS/);
    expect(run.text).not.to.contain(wrong);
  });

  it('never logs the Redis password', function () {
    const password = readFileSync(vars['REDIS_PASSWORD_FILE']!, 'utf8').trim();
    expect(password.length).to.be.greaterThan(8);
    for (const r of replicas) expect(r.output.join('\n')).to.not.include(password);
  });
});
