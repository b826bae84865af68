import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import pino from 'pino';
import { createEchoService } from '../../examples/samples/echo-service';
import type { KafkaConnectionInput } from '../../src/config/kafka-connection';
import type { Responder } from '../../src/responder/responder-options';
import { silentLogger } from '../../src/observability/logger';
import {
  metricValue,
  metricsOf,
  startReplica,
  uniqueGatewayNames,
  writeRoutes,
  type GatewayNames,
} from '../support/gateway-fixture';
import { httpRoleAcls, relayRoleAcls, replaceLine, serviceAcls, type MinimalAcl } from '../support/minimal-acls';
import type { ChildReplica } from '../support/processes';
import { serveToExit, type ExitedRun } from '../support/run-to-exit';
import {
  adminKafka,
  connectionAs,
  createTopicsAsAdmin,
  grantAcls,
  mintClientCertificate,
  securedGatewayEnv,
  type ClientCertificate,
  type MintedCertificate,
} from '../support/secured-clients';
import {
  passwordFile,
  stackVar,
  useSecuredStacks,
  userName,
  type SecuredStack,
  type StackMechanism,
} from '../support/secured-stack';
import { unique } from '../support/unique';
import { waitFor } from '../support/wait-for';

/** The echo sample in this process, connecting as `connection`; resolves once it joined its group. */
async function startEchoAs(
  stack: SecuredStack,
  connection: KafkaConnectionInput,
  topic: string,
  groupId = unique('ksec-echo'),
  logger = silentLogger(),
): Promise<Responder> {
  const echo = createEchoService({ brokers: stack.kafkaBrokers, connection, topic, groupId, logger });
  await echo.start();
  return echo;
}

/** A routes file: POST /echo/:id to `topic`, POST /silent/:id to `silentTopic` (short timeout). */
function routesFile(topic: string, silentTopic: string): string {
  return writeRoutes(
    'routes:\n' +
      `  - { name: echo, method: POST, path: '/echo/:id', topic: ${topic}, timeoutMs: 20000 }\n` +
      `  - { name: silent, method: POST, path: '/silent/:id', topic: ${silentTopic}, timeoutMs: 1500 }\n`,
  );
}

interface Answer {
  status: number;
  text: string;
  json: Record<string, unknown>;
  correlationId: string | null;
}

async function post(replica: ChildReplica, path: string, body: unknown): Promise<Answer> {
  const res = await fetch(`http://127.0.0.1:${replica.port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: the assertions on `json` fail with `text` shown
  }
  return { status: res.status, text, json, correlationId: res.headers.get('x-correlation-id') };
}

/** A logger whose lines land in `lines`. */
function capturingLogger(lines: string[]): pino.Logger {
  return pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
}

/** The start-up failure of a `serve` run: exit 1 within seconds with RG_STARTUP_FAILED naming `settings`. */
function expectStartupFailure(run: ExitedRun, settings: string[], problem: RegExp): void {
  expect(run.code, run.text).to.equal(1);
  expect(run.elapsedMs, `time to the failure\n${run.text}`).to.be.below(15_000);
  const line = run.lines.find((l) => l.includes('RG_STARTUP_FAILED'));
  expect(line, run.text).to.be.a('string');
  for (const s of settings) expect(line, run.text).to.include(s);
  expect(line, run.text).to.match(problem);
}

const OAUTH_TOKEN_LIFETIME_SEC = 16;

describe('integration: Kafka security (SASL_SSL, mTLS, OAUTHBEARER, minimal ACLs, secrets)', function () {
  this.timeout(60_000);
  const processes: ChildReplica[] = [];
  const responders: Responder[] = [];
  // Registered before the stacks' own `after`, so it runs first: processes stop while Kafka is up.
  after(async function () {
    await Promise.allSettled(processes.map((p) => p.stop()));
    await Promise.allSettled(responders.map((r) => r.stop()));
  });
  // One SASL_SSL broker for every SASL mechanism and every failure, and one mTLS broker (Kafka
  // serves one security protocol per listener; stack.sh makes one client listener per stack).
  const stacks = useSecuredStacks({
    sasl: { security: 'sasl_ssl', mechanisms: ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN'] },
    mtls: { security: 'ssl' },
    // Tokens of 16 s: a refresh and the broker's re-authentication (KIP-368: a session ends at the
    // token's exp) happen within one test. kafkajs re-authenticates with 10 s of a session left.
    oauth: {
      security: 'sasl_ssl',
      mechanisms: ['OAUTHBEARER'],
      env: { STACK_KAFKA_OAUTH_TOKEN_LIFETIME_SEC: String(OAUTH_TOKEN_LIFETIME_SEC) },
    },
  });

  async function started(replica: Promise<ChildReplica>): Promise<ChildReplica> {
    const r = await replica;
    processes.push(r);
    return r;
  }

  describe('over SASL_SSL', function () {
    let sasl: SecuredStack;
    let appUser: string;

    before(async function () {
      sasl = stacks().sasl;
      appUser = userName(sasl, 'app');
      // Broad grants here: the minimal ones are tested over mTLS below.
      await grantAcls(sasl, [
        { principal: `User:${appUser}`, resource: 'topic', name: 'ksec', prefixed: true, operations: ['ALL'] },
        { principal: `User:${appUser}`, resource: 'group', name: 'ksec', prefixed: true, operations: ['ALL'] },
      ]);
    });

    /** Topics and a routes file of one test, created as admin. */
    async function setUp(): Promise<{ names: GatewayNames; topic: string; routes: string }> {
      const names = uniqueGatewayNames('ksec');
      const topic = unique('ksec.echo');
      const silentTopic = unique('ksec.silent');
      await createTopicsAsAdmin(sasl, [topic, silentTopic, names.replyTopic]);
      return { names, topic, routes: routesFile(topic, silentTopic) };
    }

    for (const mechanism of ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN'] as StackMechanism[]) {
      it(`core path: POST through an http and a relay process, both on ${mechanism}`, async function () {
        const { names, topic, routes } = await setUp();
        const connection = connectionAs(sasl, 'app', { mechanism });
        const env = securedGatewayEnv(sasl, names, connection, { REPLYGATE_ROUTES: routes });
        const [http] = await Promise.all([started(startReplica('http', env)), started(startReplica('relay', env))]);
        responders.push(await startEchoAs(sasl, connection, topic));
        const res = await post(http, '/echo/m1', { mechanism });
        expect(res.status, res.text).to.equal(200);
        expect(res.json['body']).to.deep.equal({ mechanism });
      });
    }

    describe('start-up fails within seconds naming the setting', function () {
      const names = uniqueGatewayNames('ksec');
      const routes = routesFile('ksec.never', 'ksec.never2');
      const envWith = (change: (c: KafkaConnectionInput) => KafkaConnectionInput) =>
        securedGatewayEnv(sasl, names, change(connectionAs(sasl, 'app')), { REPLYGATE_ROUTES: routes });

      it('wrong password', async function () {
        const file = writeSecret(`wrong-${randomBytes(8).toString('hex')}`);
        const run = await serveToExit(
          envWith((c) => ({ ...c, kafkaSaslPasswordFile: file })),
          ['--role', 'http'],
        );
        expectStartupFailure(
          run,
          ['KAFKA_SASL_USERNAME (--kafka-sasl-username)', 'KAFKA_SASL_PASSWORD_FILE (--kafka-sasl-password-file)'],
          /authentication failed/i,
        );
      });

      it('a mechanism the broker does not enable', async function () {
        const run = await serveToExit(
          envWith((c) => ({
            kafkaSecurityProtocol: c.kafkaSecurityProtocol,
            kafkaTlsCaFile: c.kafkaTlsCaFile,
            kafkaSaslMechanism: 'OAUTHBEARER',
            kafkaOauthTokenUrl: 'http://127.0.0.1:9/token',
            kafkaOauthClientId: appUser,
            kafkaOauthClientSecret: 'not-used',
          })),
          ['--role', 'http'],
        );
        expectStartupFailure(
          run,
          ['KAFKA_SASL_MECHANISM (--kafka-sasl-mechanism)'],
          /does not enable SASL mechanism OAUTHBEARER/,
        );
      });

      it('an unknown mechanism', async function () {
        const run = await serveToExit(
          envWith((c) => ({ ...c, kafkaSaslMechanism: 'SCRAM-SHA-1' })),
          ['--role', 'http'],
        );
        expect(run.code, run.text).to.equal(1);
        expect(run.text).to.include('KAFKA_SASL_MECHANISM (--kafka-sasl-mechanism)');
        expect(run.text).to.include('RG_CONFIG_INVALID');
        expect(run.text).to.include('"SCRAM-SHA-512"'); // the valid ones are listed
      });

      it('the broker certificate is not trusted (no KAFKA_TLS_CA_FILE)', async function () {
        const run = await serveToExit(
          envWith(({ kafkaTlsCaFile: _ca, ...c }) => c),
          ['--role', 'http'],
        );
        expectStartupFailure(run, ['KAFKA_TLS_CA_FILE (--kafka-tls-ca-file)'], /not trusted/);
      });

      it('the broker certificate does not name KAFKA_TLS_SERVERNAME', async function () {
        const run = await serveToExit(
          envWith((c) => ({ ...c, kafkaTlsServername: 'kafka.wrong.example' })),
          ['--role', 'http'],
        );
        expectStartupFailure(run, ['KAFKA_TLS_SERVERNAME (--kafka-tls-servername)'], /does not name the host/);
      });

      for (const protocol of ['PLAINTEXT', 'SASL_PLAINTEXT', 'SSL'] as const) {
        it(`the wrong security protocol: ${protocol} to the SASL_SSL listener`, async function () {
          const run = await serveToExit(
            envWith((c) => ({
              kafkaSecurityProtocol: protocol,
              ...(protocol === 'SSL' ? { kafkaTlsCaFile: c.kafkaTlsCaFile } : {}),
              ...(protocol === 'SASL_PLAINTEXT'
                ? {
                    kafkaSaslMechanism: c.kafkaSaslMechanism,
                    kafkaSaslUsername: c.kafkaSaslUsername,
                    kafkaSaslPasswordFile: c.kafkaSaslPasswordFile,
                  }
                : {}),
            })),
            ['--role', 'http'],
          );
          expectStartupFailure(run, ['KAFKA_SECURITY_PROTOCOL (--kafka-security-protocol)'], /.+/);
        });
      }
    });

    describe('secrets never leak (logs at debug, /admin, /metrics, error bodies)', function () {
      const adminToken = `admin-${randomBytes(12).toString('hex')}`;

      /** Everything a gateway run showed: output lines, HTTP bodies of the error paths, /admin, /metrics. */
      async function successfulRun(
        connection: KafkaConnectionInput,
        extraEnv: Record<string, string>,
      ): Promise<string> {
        const { names, topic, routes } = await setUp();
        const env = securedGatewayEnv(sasl, names, connection, {
          REPLYGATE_ROUTES: routes,
          REPLYGATE_ADMIN_TOKEN: adminToken,
          LOG_LEVEL: 'debug',
          ...extraEnv,
        });
        const replica = await started(startReplica('all', env));
        responders.push(await startEchoAs(sasl, connectionAs(sasl, 'app'), topic));
        const seen: string[] = [];
        const ok = await post(replica, '/echo/s1', { hello: 'secrets' });
        expect(ok.status, ok.text).to.equal(200);
        const timeout = await post(replica, '/silent/s2', {});
        expect(timeout.status, timeout.text).to.equal(504);
        seen.push(ok.text, timeout.text);
        const base = `http://127.0.0.1:${replica.port}`;
        const auth = { authorization: `Bearer ${adminToken}` };
        for (const [path, headers] of [
          ['/nope', {}],
          ['/admin/settings', auth],
          ['/admin/routes', auth],
          ['/admin/pending', auth],
          ['/metrics', {}],
          ['/readyz', {}],
        ] as const) {
          const res = await fetch(`${base}${path}`, { headers });
          seen.push(await res.text());
          if (path === '/admin/settings') expect(res.status).to.equal(200);
        }
        expect(await replica.stop()).to.equal(0);
        return [...seen, ...replica.output].join('\n');
      }

      it('KAFKA_SASL_PASSWORD (env): a failed and a successful run never show it', async function () {
        const password = readFileSync(passwordFile(sasl, 'app'), 'utf8').trim();
        const wrong = `wrong-${randomBytes(12).toString('hex')}`;
        const { kafkaSaslPasswordFile: _f, ...noFile } = connectionAs(sasl, 'app');
        const failed = await serveToExit(
          {
            ...securedGatewayEnv(sasl, uniqueGatewayNames('ksec'), noFile, { REPLYGATE_ROUTES: routesFile('a', 'b') }),
            KAFKA_SASL_PASSWORD: wrong,
            LOG_LEVEL: 'debug',
          },
          ['--role', 'http'],
        );
        expectStartupFailure(failed, ['KAFKA_SASL_PASSWORD'], /authentication failed/i);
        expect(failed.text).not.to.include(wrong);
        const shown = await successfulRun(noFile, { KAFKA_SASL_PASSWORD: password });
        expect(shown).to.include('replygate replica ready'); // the debug output was seen
        expect(shown).not.to.include(password);
      });

      it('KAFKA_SASL_PASSWORD_FILE: a failed and a successful run never show its content', async function () {
        const password = readFileSync(passwordFile(sasl, 'app'), 'utf8').trim();
        const wrong = `wrong-${randomBytes(12).toString('hex')}`;
        const failed = await serveToExit(
          {
            ...securedGatewayEnv(
              sasl,
              uniqueGatewayNames('ksec'),
              { ...connectionAs(sasl, 'app'), kafkaSaslPasswordFile: writeSecret(wrong) },
              { REPLYGATE_ROUTES: routesFile('a', 'b') },
            ),
            LOG_LEVEL: 'debug',
          },
          ['--role', 'http'],
        );
        expectStartupFailure(failed, ['KAFKA_SASL_PASSWORD_FILE'], /authentication failed/i);
        expect(failed.text).not.to.include(wrong);
        const shown = await successfulRun(connectionAs(sasl, 'app'), {});
        expect(shown).to.include('replygate replica ready');
        expect(shown).not.to.include(password);
      });
    });
  });

  describe('minimal ACLs (docs/OPERATIONS.md) over mTLS: http role, relay role, service', function () {
    let mtls: SecuredStack;
    let names: GatewayNames;
    let topic: string;
    let silentTopic: string;
    let serviceGroup: string;
    let routes: string;
    let http: ChildReplica;
    let relay: ChildReplica;
    /** Principals (certificate CNs) and their certificates, by role, or role and the ACL it lacks. */
    const certs = new Map<string, ClientCertificate>();
    const cn = new Map<string, string>();
    let table: { http: MinimalAcl[]; relay: MinimalAcl[]; service: MinimalAcl[] };
    const as = (who: string) => connectionAs(mtls, 'app', { certificate: certs.get(who)! });
    const envOf = (who: string, extra: Record<string, string> = {}) =>
      securedGatewayEnv(mtls, names, as(who), { REPLYGATE_ROUTES: routes, ...extra });
    const principal = (who: string) => `User:${cn.get(who)!}`;

    before(async function () {
      mtls = stacks().mtls;
      names = uniqueGatewayNames('kacl');
      topic = unique('kacl.echo');
      silentTopic = unique('kacl.nowrite');
      serviceGroup = unique('kacl-svc');
      routes = routesFile(topic, silentTopic);
      const who = [
        'http',
        'relay',
        'service',
        'http-no-write',
        'http-no-request-topic',
        'http-no-reply-topic',
        'relay-no-group',
        'relay-no-topic',
        'service-no-write',
      ];
      await Promise.all(
        who.map(async (w) => {
          const name = unique(`rg-${w}`);
          cn.set(w, name);
          certs.set(w, await mintClientCertificate(mtls, name));
        }),
      );
      const httpOf = (w: string) =>
        httpRoleAcls(principal(w), { requestTopics: [topic, silentTopic], replyTopic: names.replyTopic });
      const relayOf = (w: string) =>
        relayRoleAcls(principal(w), { replyTopic: names.replyTopic, relayGroup: names.relayGroup });
      table = {
        http: httpOf('http'),
        relay: relayOf('relay'),
        service: serviceAcls(principal('service'), {
          requestTopic: topic,
          groupId: serviceGroup,
          replyTopic: names.replyTopic,
        }),
      };
      // Each variant is the table of its role with one line taken away (another principal each,
      // so that no grant is ever revoked under a running process).
      const variants = [
        // DESCRIBE (which WRITE implied) but not WRITE on a request topic
        ...replaceLine(httpOf('http-no-write'), 'topic', topic, ['DESCRIBE']),
        ...replaceLine(httpOf('http-no-request-topic'), 'topic', topic),
        ...replaceLine(httpOf('http-no-reply-topic'), 'topic', names.replyTopic),
        ...replaceLine(relayOf('relay-no-group'), 'group', names.relayGroup),
        ...replaceLine(relayOf('relay-no-topic'), 'topic', names.replyTopic),
        ...replaceLine(
          serviceAcls(principal('service-no-write'), {
            requestTopic: silentTopic,
            groupId: `${serviceGroup}-no-write`,
            replyTopic: names.replyTopic,
          }),
          'topic',
          names.replyTopic,
        ),
      ];
      await createTopicsAsAdmin(mtls, [topic, silentTopic, names.replyTopic]);
      await grantAcls(mtls, [...table.http, ...table.relay, ...table.service, ...variants]);
      [http, relay] = await Promise.all([
        started(startReplica('http', envOf('http'))),
        started(startReplica('relay', envOf('relay', { REPLYGATE_RELAY_LAG_INTERVAL_MS: '500' }))),
      ]);
      responders.push(await startEchoAs(mtls, as('service'), topic, serviceGroup));
    });

    it('core path over mTLS with exactly the table: three principals, nothing more', async function () {
      const res = await post(http, '/echo/a1', { acl: 'minimal' });
      expect(res.status, res.text).to.equal(200);
      expect(res.json['body']).to.deep.equal({ acl: 'minimal' });
      // The relay's lag monitor reads the group's offsets with READ on the group alone.
      await waitFor(
        async () => /replygate_relay_lag_messages\{group="[^"]+",partition="0"\}/.test(await metricsOf(relay)),
        10_000,
        'a relay lag sample',
      );
    });

    it('the relay rewinds after a Redis restart with READ on the prefixed <relayGroup>-rewind- groups', async function () {
      const res = await post(http, '/echo/a2', { acl: 'rewind' });
      expect(res.status, res.text).to.equal(200);
      const key = `${names.keyPrefix}reply:${res.correlationId!}`;
      const redis = new Redis(mtls.redisUrl, { maxRetriesPerRequest: 1 });
      redis.on('error', () => undefined);
      try {
        expect(await redis.exists(key), 'the reply is stored').to.equal(1);
        const runId = async () => /run_id:(\w+)/.exec(await redis.info('server'))?.[1];
        const before = await runId();
        await mtls.run('restart', 'redis');
        // The fault happened: another redis-server (no persistence), so the reply is gone from it...
        await waitFor(async () => (await runId()) !== before, 10_000, 'a new Redis run');
        // ... and the relay's rewind (a consumer in a group `<relayGroup>-rewind-<hex>`) writes it again.
        await waitFor(async () => (await redis.exists(key)) === 1, 20_000, 'the rewind to store the reply again');
        const rewound = metricValue(await metricsOf(relay), 'replygate_relay_writes_total', { result: 'rewound' });
        expect(rewound).to.be.above(0);
        expect(relay.output.join('\n')).not.to.include('rewind after Redis restart failed');
      } finally {
        redis.disconnect();
      }
    });

    it('http without WRITE on a request topic: 503 at once, a log line naming the topic and WRITE', async function () {
      const r = await started(startReplica('http', envOf('http-no-write', { LOG_LEVEL: 'info' })));
      const t0 = Date.now();
      const res = await post(r, '/echo/w1', {});
      expect(res.status, res.text).to.equal(503);
      expect(Date.now() - t0, 'time to the 503').to.be.below(3000);
      expect(res.json['error']).to.equal('RG_PUBLISH_FAILED');
      expect(res.json['detail']).to.include(topic);
      const line = await waitFor(
        () => r.output.find((l) => l.includes('publish failed') && l.includes(topic)),
        5000,
        'the publish failure log line',
      );
      expect(line).to.match(/WRITE/);
      expect(line).to.include('TOPIC_AUTHORIZATION_FAILED');
    });

    it('http without any ACL on a request topic: start-up exits 1 naming the topic, DESCRIBE and WRITE', async function () {
      const run = await serveToExit(envOf('http-no-request-topic'), ['--role', 'http']);
      expectStartupFailure(
        run,
        ['REPLYGATE_ROUTES', `topic "${topic}"`, cn.get('http-no-request-topic')!],
        /DESCRIBE and WRITE/,
      );
    });

    it('http without DESCRIBE on the reply topic: start-up exits 1 naming the topic', async function () {
      const run = await serveToExit(envOf('http-no-reply-topic'), ['--role', 'http']);
      expectStartupFailure(run, ['REPLYGATE_REPLY_TOPIC', `topic "${names.replyTopic}"`], /DESCRIBE/);
    });

    it('relay without READ on its group: start-up exits 1 naming the group', async function () {
      const run = await serveToExit(envOf('relay-no-group'), ['--role', 'relay']);
      expectStartupFailure(run, ['REPLYGATE_RELAY_GROUP', `consumer group "${names.relayGroup}"`], /READ/);
    });

    it('relay without READ on the reply topic: start-up exits 1 naming the topic', async function () {
      const run = await serveToExit(envOf('relay-no-topic'), ['--role', 'relay']);
      expectStartupFailure(run, ['REPLYGATE_REPLY_TOPIC', `topic "${names.replyTopic}"`], /READ/);
    });

    it('service without WRITE on the reply topic: the request 504s, the service logs the reply topic refused', async function () {
      const lines: string[] = [];
      const service = await startEchoAs(
        mtls,
        as('service-no-write'),
        silentTopic,
        `${serviceGroup}-no-write`,
        capturingLogger(lines),
      );
      responders.push(service);
      const res = await post(http, '/silent/w2', {});
      expect(res.status, res.text).to.equal(504);
      const line = await waitFor(
        () => lines.find((l) => l.includes('reply could not be sent')),
        5000,
        "the service's error line",
      );
      expect(line).to.include(`"replyTo":"${names.replyTopic}"`);
      expect(line).to.match(/authoriz/i);
      await service.stop();
    });

    describe('a reply topic not created yet', function () {
      let fresh: GatewayNames;
      let creator: MintedCertificate;
      let relayOnly: MintedCertificate;
      before(async function () {
        fresh = uniqueGatewayNames('kacl');
        [creator, relayOnly] = await Promise.all([
          mintClientCertificate(mtls, unique('rg-http-create')),
          mintClientCertificate(mtls, unique('rg-relay-create')),
        ]);
        const httpLines = httpRoleAcls(creator.principal, {
          requestTopics: [topic, silentTopic],
          replyTopic: fresh.replyTopic,
        });
        await grantAcls(mtls, [
          ...replaceLine(httpLines, 'topic', fresh.replyTopic, ['DESCRIBE', 'CREATE']),
          ...relayRoleAcls(relayOnly.principal, { replyTopic: fresh.replyTopic, relayGroup: fresh.relayGroup }),
        ]);
      });
      const envAs = (c: ClientCertificate) =>
        securedGatewayEnv(mtls, fresh, connectionAs(mtls, 'app', { certificate: c }), { REPLYGATE_ROUTES: routes });

      it('a principal without CREATE on it: start-up exits 1 naming the topic and CREATE', async function () {
        const run = await serveToExit(envAs(relayOnly), ['--role', 'relay']);
        expectStartupFailure(
          run,
          [
            'REPLYGATE_REPLY_TOPIC (--reply-topic)',
            `topic "${fresh.replyTopic}" does not exist`,
            relayOnly.principal.slice(5),
          ],
          /grant CREATE on it/,
        );
      });

      it('http with DESCRIBE and CREATE on it creates it', async function () {
        await started(startReplica('http', envAs(creator)));
        const admin = adminKafka(mtls).admin();
        await admin.connect();
        try {
          const { topics } = await admin.fetchTopicMetadata({ topics: [fresh.replyTopic] });
          expect(topics[0]?.partitions.length).to.equal(2); // REPLYGATE_REPLY_TOPIC_PARTITIONS of the test env
        } finally {
          await admin.disconnect();
        }
      });
    });

    it('a client without a certificate is refused, naming KAFKA_TLS_CERT_FILE', async function () {
      const { kafkaTlsCertFile: _c, kafkaTlsKeyFile: _k, ...noCert } = as('http');
      const run = await serveToExit(securedGatewayEnv(mtls, names, noCert, { REPLYGATE_ROUTES: routes }), [
        '--role',
        'http',
      ]);
      expectStartupFailure(run, ['KAFKA_TLS_CERT_FILE'], /.+/);
    });
  });

  describe('over OAUTHBEARER (a local client-credentials endpoint, the broker validating with its JWKS)', function () {
    let oauth: SecuredStack;
    let names: GatewayNames;
    let http: ChildReplica;
    let relay: ChildReplica;
    let readyAt: number;
    let clientSecret: string;
    const adminToken = `admin-${randomBytes(12).toString('hex')}`;

    /** The token endpoint's counts (scripts/oauth-server.mjs `GET /stats`). */
    const stats = async (): Promise<{ tokensIssued: number; issuedByClient: Record<string, number> }> => {
      const res = await fetch(new URL('/stats', stackVar(oauth, 'STACK_KAFKA_OAUTH_TOKEN_URL')));
      return (await res.json()) as { tokensIssued: number; issuedByClient: Record<string, number> };
    };

    before(async function () {
      oauth = stacks().oauth;
      const app = userName(oauth, 'app');
      clientSecret = readFileSync(stackVar(oauth, 'STACK_KAFKA_OAUTH_CLIENT_SECRET_FILE'), 'utf8').trim();
      names = uniqueGatewayNames('ksec');
      const topic = unique('ksec.echo');
      const silentTopic = unique('ksec.silent');
      await grantAcls(oauth, [
        { principal: `User:${app}`, resource: 'topic', name: 'ksec', prefixed: true, operations: ['ALL'] },
        { principal: `User:${app}`, resource: 'group', name: 'ksec', prefixed: true, operations: ['ALL'] },
      ]);
      await createTopicsAsAdmin(oauth, [topic, silentTopic, names.replyTopic]);
      const env = securedGatewayEnv(oauth, names, connectionAs(oauth, 'app'), {
        REPLYGATE_ROUTES: routesFile(topic, silentTopic),
        REPLYGATE_ADMIN_TOKEN: adminToken,
        LOG_LEVEL: 'debug',
      });
      [http, relay] = await Promise.all([started(startReplica('http', env)), started(startReplica('relay', env))]);
      // Every token their connections authenticated with so far was fetched before this.
      readyAt = Date.now();
      // The service as admin, so that the endpoint's count for the app client is the gateway's alone.
      responders.push(await startEchoAs(oauth, connectionAs(oauth, 'admin'), topic));
    });

    it('core path: POST through an http and a relay process on OAUTHBEARER', async function () {
      const res = await post(http, '/echo/o1', { mechanism: 'OAUTHBEARER' });
      expect(res.status, res.text).to.equal(200);
      expect(res.json['body']).to.deep.equal({ mechanism: 'OAUTHBEARER' });
    });

    it("tokens are refreshed and sessions re-authenticated: requests still answered past the first token's expiry", async function () {
      this.timeout(OAUTH_TOKEN_LIFETIME_SEC * 1000 + 30_000);
      const app = userName(oauth, 'app');
      const first = (await stats()).issuedByClient[app] ?? 0;
      expect(first, 'tokens fetched by the two gateway processes').to.be.at.least(2);
      // Past the exp of every token fetched at start-up: the broker ends a session at its token's
      // exp unless the client re-authenticated with a fresh token before.
      const expiry = readyAt + OAUTH_TOKEN_LIFETIME_SEC * 1000 + 1000;
      let answered = 0;
      while (Date.now() < expiry) {
        const res = await post(http, `/echo/o${answered}`, { n: answered });
        expect(res.status, `${res.text}\n${http.output.slice(-8).join('\n')}`).to.equal(200);
        answered++;
        await new Promise((r) => setTimeout(r, 500));
      }
      const t0 = Date.now();
      const res = await post(http, '/echo/late', { late: true });
      expect(res.status, res.text).to.equal(200);
      expect(Date.now() - t0, 'latency past the expiry').to.be.below(2000);
      const refreshed = (await stats()).issuedByClient[app] ?? 0;
      expect(refreshed, 'new tokens fetched').to.be.at.least(first + 2);
      const problems = [...http.output, ...relay.output].filter((l) => /"level":(40|50|60)/.test(l));
      expect(problems, problems.join('\n')).to.deep.equal([]);
      console.log(
        `      (${answered} requests over ${OAUTH_TOKEN_LIFETIME_SEC} s; tokens for ${app}: ${first} -> ${refreshed})`,
      );
    });

    it('a wrong client secret: start-up exits 1 naming KAFKA_OAUTH_CLIENT_ID, the secret file and the token URL', async function () {
      const wrong = `wrong-${randomBytes(12).toString('hex')}`;
      const tokenUrl = stackVar(oauth, 'STACK_KAFKA_OAUTH_TOKEN_URL');
      const run = await serveToExit(
        {
          ...securedGatewayEnv(
            oauth,
            uniqueGatewayNames('ksec'),
            { ...connectionAs(oauth, 'app'), kafkaOauthClientSecretFile: writeSecret(wrong) },
            { REPLYGATE_ROUTES: routesFile('a', 'b') },
          ),
          LOG_LEVEL: 'debug',
        },
        ['--role', 'http'],
      );
      expectStartupFailure(
        run,
        ['KAFKA_OAUTH_CLIENT_ID (--kafka-oauth-client-id)', 'KAFKA_OAUTH_CLIENT_SECRET_FILE', tokenUrl],
        /invalid_client|401/,
      );
      expect(run.text).not.to.include(wrong);
      expect(run.text).not.to.include(clientSecret);
    });

    it('the client secret never shows in logs at debug, /admin, /metrics or error bodies', async function () {
      const seen: string[] = [];
      const timeout = await post(http, '/silent/x', {});
      expect(timeout.status, timeout.text).to.equal(504);
      seen.push(timeout.text);
      for (const [path, headers] of [
        ['/nope', {}],
        ['/admin/settings', { authorization: `Bearer ${adminToken}` }],
        ['/metrics', {}],
      ] as const) {
        const res = await fetch(`http://127.0.0.1:${http.port}${path}`, { headers });
        seen.push(await res.text());
      }
      const shown = [...seen, ...http.output, ...relay.output].join('\n');
      expect(shown).to.include('fetched an OAUTHBEARER token'); // the debug output was seen
      expect(shown).not.to.include(clientSecret);
    });
  });
});

/** A secret in a file of its own (mode 600), as operators mount them. */
function writeSecret(value: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'replygate-secret-')), 'secret');
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return file;
}
