import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
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

const exec = promisify(execFile);

/** A CA, a server certificate for 127.0.0.1 / localhost and a client certificate, made with openssl. */
async function makeCertificates(dir: string): Promise<void> {
  const o = (...args: string[]) => exec('openssl', args);
  await o('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'), '-subj', '/CN=replygate-test-ca'); // prettier-ignore
  for (const [name, san] of [
    ['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    writeFileSync(join(dir, `${name}.ext`), `${san}\n`);
    await o('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.csr`), '-subj', `/CN=${name}`); // prettier-ignore
    await o('x509', '-req', '-in', join(dir, `${name}.csr`), '-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key'),
      '-CAcreateserial', '-days', '2', '-extfile', join(dir, `${name}.ext`), '-out', join(dir, `${name}.crt`)); // prettier-ignore
  }
}

/**
 * Redis over TLS with client certificates (`rediss://`, REDIS_TLS_CA_FILE, REDIS_TLS_CERT_FILE,
 * REDIS_TLS_KEY_FILE) on a private redis-server that listens on a TLS port only.
 */
describe('integration: Redis over TLS with a client certificate', function () {
  this.timeout(90_000);

  let stack: TestStack;
  let names: GatewayNames;
  let dir: string;
  let server: ChildProcess;
  let port: number;
  let replica: ChildReplica;
  let echo: Responder;
  let env: Record<string, string>;
  const topic = unique('tls.echo');

  before(async function () {
    stack = await useTestStack();
    dir = mkdtempSync(join(tmpdir(), 'replygate-redis-tls-'));
    await makeCertificates(dir);
    port = await freePort();
    // A TLS port only (no plain one).
    // prettier-ignore
    server = spawnRedisServer(0, { dir, extra: ['--tls-port', String(port),
      '--tls-cert-file', join(dir, 'server.crt'), '--tls-key-file', join(dir, 'server.key'),
      '--tls-ca-cert-file', join(dir, 'ca.crt'), '--tls-auth-clients', 'yes'] });
    await waitFor(
      async () => (await exec('redis-cli', ['--tls', '--cacert', join(dir, 'ca.crt'), '--cert', join(dir, 'client.crt'),
        '--key', join(dir, 'client.key'), '-p', String(port), 'PING'])).stdout.includes('PONG'), // prettier-ignore
      10_000,
      'the TLS redis-server',
      100,
    );
    names = uniqueGatewayNames('tls');
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
      REDIS_URL: `rediss://127.0.0.1:${port}/0`,
      REDIS_TLS_CA_FILE: join(dir, 'ca.crt'),
      REDIS_TLS_CERT_FILE: join(dir, 'client.crt'),
      REDIS_TLS_KEY_FILE: join(dir, 'client.key'),
    });
    replica = await startReplica('all', env);
    echo = await startEcho(stack, topic);
  });

  after(async function () {
    await Promise.allSettled([replica?.stop(), echo?.stop()]);
    if (server !== undefined) await stopProcess(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves requests over TLS with the client certificate', async function () {
    const res = await fetch(`http://127.0.0.1:${replica.port}/echo`, {
      method: 'POST',
      body: '{"tls":true}',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).to.equal(200);
    expect(((await res.json()) as { body: unknown }).body).to.deep.equal({ tls: true });
  });

  it('without the client certificate the server refuses it, and start-up names REDIS_URL and the address at once', async function () {
    const run = await serveToExit({ ...env, REDIS_TLS_CERT_FILE: '', REDIS_TLS_KEY_FILE: '', PORT: '0' }, [], 8000);
    expect(run.text).to.include(`REDIS_URL (--redis-url) rediss://127.0.0.1:${port}/0:`);
    expect(run.text).not.to.include('"event":"ready"');
  });
});
