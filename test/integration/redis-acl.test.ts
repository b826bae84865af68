import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { Responder } from '../../src/responder/responder-options';
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
import { freePort, spawnRedisServer, stopProcess } from '../support/redis-server';
import { serveToExit } from '../support/run-to-exit';
import { useTestStack, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';
import { waitFor } from '../support/wait-for';

const ADMIN_TOKEN = 'acl-test-admin-token-0123456789';

/**
 * A Redis ACL user (REDIS_USERNAME + REDIS_PASSWORD_FILE) on a private redis-server whose
 * `default` user is off: the gateway works with it, and its password appears nowhere an operator
 * or a client can read (logs at debug, `/admin/settings`, `/metrics`, error bodies, start-up errors).
 */
describe('integration: Redis ACL user and password file', function () {
  this.timeout(90_000);

  const password = `pw-${randomBytes(12).toString('hex')}`;
  const wrong = `wrong-${randomBytes(12).toString('hex')}`;
  let stack: TestStack;
  let names: GatewayNames;
  let dir: string;
  let server: ChildProcess;
  let port: number;
  let replica: ChildReplica;
  let echo: Responder;
  let env: Record<string, string>;
  const topic = unique('acl.echo');

  before(async function () {
    stack = await useTestStack();
    dir = mkdtempSync(join(tmpdir(), 'replygate-redis-acl-'));
    port = await freePort();
    server = spawnRedisServer(port, {
      dir,
      extra: ['--user', 'default', 'off', '--user', 'replygate', 'on', `>${password}`, '~*', '&*', '+@all'],
    });
    const probe = new Redis({ port, host: '127.0.0.1', username: 'replygate', password, lazyConnect: true });
    probe.on('error', () => undefined);
    await waitFor(async () => (await probe.ping()) === 'PONG', 10_000, 'the ACL redis-server', 50);
    probe.disconnect();
    writeFileSync(join(dir, 'password'), `${password}\n`);
    writeFileSync(join(dir, 'wrong'), `${wrong}\n`);
    names = uniqueGatewayNames('acl');
    await createTopics(stack, [topic, names.replyTopic]);
    const routes = writeRoutes(`
routes:
  - name: echo
    method: POST
    path: /echo
    topic: ${topic}
`);
    env = gatewayEnv(stack, names, {
      REPLYGATE_ROUTES: routes,
      REDIS_URL: `redis://127.0.0.1:${port}/0`,
      REDIS_USERNAME: 'replygate',
      REDIS_PASSWORD_FILE: join(dir, 'password'),
      REPLYGATE_ADMIN_TOKEN: ADMIN_TOKEN,
      LOG_LEVEL: 'debug',
    });
    replica = await startReplica('all', env);
    echo = await startEcho(stack, topic);
  });

  after(async function () {
    await Promise.allSettled([replica?.stop(), echo?.stop()]);
    if (server !== undefined) await stopProcess(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves requests as the ACL user, and the password shows nowhere', async function () {
    const base = `http://127.0.0.1:${replica.port}`;
    const res = await fetch(`${base}/echo`, {
      method: 'POST',
      body: '{"hi":1}',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status, await res.clone().text()).to.equal(200);
    const admin = await (
      await fetch(`${base}/admin/settings`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    ).text();
    expect(JSON.parse(admin)).to.deep.include({
      redis: { mode: 'standalone', address: `redis://127.0.0.1:${port}/0`, username: 'replygate', tls: false },
    });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const bad = await (await fetch(`${base}/nowhere`)).text();
    for (const [what, text] of Object.entries({ admin, metrics, bad, logs: replica.output.join('\n') })) {
      expect(text, what).not.to.contain(password);
    }
  });

  it('a wrong password: start-up fails at once naming REDIS_USERNAME / REDIS_PASSWORD_FILE and the address, not the password', async function () {
    const run = await serveToExit({ ...env, REDIS_PASSWORD_FILE: join(dir, 'wrong'), PORT: '0' });
    expect(run.code, run.text).to.equal(1);
    expect(run.text).to.include(
      `REDIS_USERNAME (--redis-username) / REDIS_PASSWORD_FILE (--redis-password-file) redis://127.0.0.1:${port}/0: WRONGPASS`,
    );
    expect(run.elapsedMs, 'refused credentials are not waited on').to.be.below(10_000);
    expect(run.text).not.to.contain(
      wrong,
      run.lines
        .filter((l) => l.includes(wrong))
        .join('\n')
        .slice(0, 1500),
    );
    expect(run.text).not.to.contain(password);
  });
});
