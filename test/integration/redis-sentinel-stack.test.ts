import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parseStackEnv } from '../../examples/demo/stack-env';
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
import { waitFor } from '../support/wait-for';

/**
 * The Sentinel shape as an operator runs it: a primary, two replicas and three sentinels
 * (`STACK_REDIS_SHAPE=sentinel`), an ACL user with only the gateway's permissions
 * (`STACK_REDIS_ACL=1`, default user off) and mutual TLS (`STACK_REDIS_TLS=mtls`), in a stack of
 * this file's own; the gateways get exactly the settings `scripts/stack.sh env` prints
 * (REDIS_SENTINELS, REDIS_SENTINEL_MASTER, REDIS_USERNAME, REDIS_PASSWORD_FILE, REDIS_TLS*). The
 * core request path, then a failover: the primary SIGKILLed, the sentinels promote a replica, and
 * requests are answered again without restarting anything.
 */
describe('integration: Redis Sentinel with an ACL user over mTLS, and a failover', function () {
  this.timeout(240_000);

  // The ACL grants this prefix only (STACK_REDIS_ACL_KEY_PREFIX): the gateways must use it.
  const names = { ...uniqueGatewayNames('sentinel'), keyPrefix: `${unique('sent')}:` };
  const topic = unique('sentinel.echo');
  const { stackSh } = ownStack('sentinel', {
    STACK_REDIS_SHAPE: 'sentinel',
    STACK_REDIS_ACL: '1',
    STACK_REDIS_TLS: 'mtls',
    STACK_REDIS_ACL_KEY_PREFIX: names.keyPrefix,
  });
  let own: TestStack;
  let vars: Record<string, string>;
  let echo: Responder | undefined;
  let gw: Record<string, string>;
  const replicas: ChildReplica[] = [];

  const post = async (i: number, id: string): Promise<{ status: number; body: string }> => {
    const https = replicas.slice(0, 2); // (the third is the relay: no routes)
    const res = await fetch(`http://127.0.0.1:${https[i % https.length]!.port}/echo/${id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id }),
    });
    return { status: res.status, body: await res.text() };
  };
  const ownReply = (id: string, r: { status: number; body: string }): boolean =>
    r.status === 200 && (JSON.parse(r.body) as { body?: { id?: string } }).body?.id === id;

  before(async function () {
    try {
      vars = parseStackEnv((await stackSh('up')).stdout);
    } catch (err) {
      await stackSh('down').catch(() => undefined);
      throw err;
    }
    own = { ...serversOf(vars), source: 'local', stop: async () => undefined };
    expect(own.redisShape).to.equal('sentinel');
    await createTopics(own, [topic, names.replyTopic]);
    echo = await startEcho(own, topic);
    const routes = writeRoutes(`
routes:
  - { name: echo, method: POST, path: /echo/:id, topic: ${topic}, key: params.id, timeoutMs: 10000 }
`);
    gw = gatewayEnv(own, names, {
      REPLYGATE_ROUTES: routes,
      // the ACL user may not CONFIG SET: the stack set notify-keyspace-events itself
      REPLYGATE_REDIS_CONFIGURE: 'false',
      LOG_LEVEL: 'info',
    });
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

  it('gets the sentinel-set settings from stack.sh: sentinels, master name, ACL user, mTLS files', function () {
    expect(vars).to.include({ STACK_REDIS_TOPOLOGY: 'sentinel', REDIS_USERNAME: 'replygate', REDIS_TLS: 'true' });
    expect(vars['REDIS_SENTINELS']?.split(',')).to.have.length(3);
    expect(vars).to.not.have.property('REDIS_URL');
    for (const k of [
      'REDIS_PASSWORD_FILE',
      'REDIS_SENTINEL_PASSWORD_FILE',
      'REDIS_TLS_CA_FILE',
      'REDIS_TLS_CERT_FILE',
      'REDIS_TLS_KEY_FILE',
    ])
      expect(vars[k], k).to.be.a('string');
  });

  it('answers through the primary the sentinels name, as the ACL user over mTLS', async function () {
    const ids = Array.from({ length: 20 }, (_, i) => `s${i}`);
    const replies = await Promise.all(ids.map((id, i) => post(i, id)));
    replies.forEach((r, i) => expect(ownReply(ids[i]!, r), `${ids[i]}: ${r.status} ${r.body}`).to.equal(true));
  });

  it('answers again after the primary is SIGKILLed and the sentinels promote a replica, without a restart', async function () {
    const before = (await stackSh('redis-master-of')).stdout.trim().split(' ')[0]!;
    await stackSh('kill', before);
    const killedAt = Date.now();
    // The sentinels agree the primary is down (down-after-milliseconds 2000), elect and promote.
    let after = before;
    await waitFor(
      async () => {
        after = (await stackSh('redis-master-of')).stdout.trim().split(' ')[0]!;
        return after !== before;
      },
      60_000,
      'the sentinels to name a new primary',
      250,
    );
    const promotedMs = Date.now() - killedAt;
    // Requests succeed again without any gateway being restarted, on each http replica (each
    // reconnects to the new primary on its own schedule)...
    let n = 0;
    for (const replica of [0, 1]) {
      let last = '';
      await waitFor(
        async () => {
          const id = `f${n++}`;
          const r = await post(replica, id);
          last = `${r.status} ${r.body}`;
          return ownReply(id, r);
        },
        60_000,
        `a request answered by http replica ${replica} after the failover`,
        250,
      ).catch((err: Error) => {
        const log = replicas[replica]!.output.slice(-15).join('\n');
        throw new Error(`${err.message}; last answer: ${last}; the replica's last lines:\n${log}`);
      });
    }
    const answeredMs = Date.now() - killedAt;
    // ...and from then on every one of them, on every replica.
    const ids = Array.from({ length: 20 }, (_, i) => `g${i}`);
    const replies = await Promise.all(ids.map((id, i) => post(i, id)));
    replies.forEach((r, i) => expect(ownReply(ids[i]!, r), `${ids[i]}: ${r.status} ${r.body}`).to.equal(true));
    console.log(
      `      ${before} killed; ${after} promoted after ${promotedMs} ms; answered again after ${answeredMs} ms`,
    );
    await stackSh('start', before); // back as a replica of the new primary
  });

  it('sentinels that require a password: without REDIS_SENTINEL_PASSWORD_FILE start-up fails naming it', async function () {
    const run = await serveToExit({ ...gw, REDIS_SENTINEL_PASSWORD_FILE: '', PORT: '0' }, [], 60_000);
    expect(run.code, run.text).to.equal(1);
    // Named as what the sentinels refused, not as the data nodes' credentials (seen before).
    expect(run.text).to.include('REDIS_SENTINEL_USERNAME (--redis-sentinel-username) / REDIS_SENTINEL_PASSWORD_FILE');
    expect(run.text).to.include('NOAUTH');
    expect(run.elapsedMs, 'refused credentials are not waited on').to.be.below(20_000);
  });

  it("never logs the Redis password or the sentinels' password", function () {
    for (const file of [vars['REDIS_PASSWORD_FILE']!, vars['REDIS_SENTINEL_PASSWORD_FILE']!]) {
      const password = readFileSync(file, 'utf8').trim();
      expect(password.length).to.be.greaterThan(8);
      for (const r of replicas) expect(r.output.join('\n')).to.not.include(password);
    }
  });
});
