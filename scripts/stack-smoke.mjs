#!/usr/bin/env node
/* global process, console, setTimeout, clearTimeout, fetch, Buffer, URL, URLSearchParams */
// Smoke test of a scripts/stack.sh Kafka, with the settings `stack.sh env` prints:
//
//   eval "$(scripts/stack.sh env)" && node scripts/stack-smoke.mjs [--kill-one]
//
// - connects as STACK_KAFKA_USER (SASL: password file; ssl: client certificate; TLS: the stack CA)
//   and produces then consumes one message (acks=-1) on a fresh topic;
// - with STACK_KAFKA_ACLS_ENFORCED=true, first grants that user the ACLs it needs (as the admin user), and
//   shows that STACK_KAFKA_GUEST_USER, who has none, is refused with TOPIC_AUTHORIZATION_FAILED
//   and GROUP_AUTHORIZATION_FAILED;
// - with OAUTHBEARER (STACK_SMOKE_MECHANISM=OAUTHBEARER, or the first enabled mechanism): every
//   client gets its tokens from STACK_KAFKA_OAUTH_TOKEN_URL (client credentials: the user name and
//   its _OAUTH_CLIENT_SECRET_FILE) through kafkajs's oauthBearerProvider; the script also shows that
//   the endpoint refuses a wrong secret (401 invalid_client) and that the broker refuses a token
//   with the right claims and kid signed by another key (SASL authentication failed);
// - with --expired as well (a stack with a short STACK_KAFKA_OAUTH_TOKEN_LIFETIME_SEC, 16..60): a
//   producer keeps its connection across the token's expiry and sends again (the broker makes it
//   re-authenticate, the provider fetches a new token: the endpoint's /stats counts it), and a
//   token held past its exp plus the broker's clock skew (30 s) is refused;
// - with --kill-one on a three-broker stack: the topic has replication factor 3, the script
//   SIGKILLs the broker leading its partition 0 (`stack.sh kill kafka-<n>`), produces again with
//   acks=-1 and says how long the produce took; the broker is started again at the end.
// Exits non-zero when a step fails. Passwords are never printed.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(resolve(ROOT, 'package.json'));
const {
  Kafka,
  logLevel,
  AclResourceTypes,
  AclOperationTypes,
  AclPermissionTypes,
  ResourcePatternTypes,
  KafkaJSSASLAuthenticationError,
} = require('kafkajs');
const { SignJWT, generateKeyPair } = require('jose');

const env = process.env;
const brokers = (env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
if (brokers.length === 0) {
  console.error('stack-smoke: KAFKA_BROKERS is not set (eval "$(scripts/stack.sh env)")');
  process.exit(2);
}
const security = (env.STACK_KAFKA_PROTOCOL ?? 'plaintext').toLowerCase();
const acls = env.STACK_KAFKA_ACLS_ENFORCED === 'true';
// STACK_SMOKE_MECHANISM picks one of the enabled mechanisms (default: the first)
const mechanism = env.STACK_SMOKE_MECHANISM ?? (env.STACK_KAFKA_SASL_ENABLED_MECHANISMS ?? '').split(',')[0] ?? '';
const killOne = process.argv.includes('--kill-one');
const checkExpiry = process.argv.includes('--expired');
const oauth = mechanism.toUpperCase() === 'OAUTHBEARER';
const say = (msg) => console.log(`[smoke] ${msg}`);
const readSecret = (file) => readFileSync(file, 'utf8').trim();

/** kafkajs client options for one of the stack's users: 'app', 'admin' or 'guest'. */
function clientOptions(who) {
  const prefix = { app: 'STACK_KAFKA_', admin: 'STACK_KAFKA_ADMIN_', guest: 'STACK_KAFKA_GUEST_' }[who];
  const user = who === 'app' ? env.STACK_KAFKA_USER : env[`${prefix}USER`];
  const opts = { clientId: `stack-smoke-${who}`, brokers, logLevel: logLevel.NOTHING, retry: { retries: 3 } };
  if (security === 'ssl' || security === 'sasl_ssl') {
    opts.ssl = { ca: [readFileSync(env.STACK_KAFKA_CA_FILE)] };
    if (security === 'ssl') {
      const certPrefix = who === 'app' ? 'STACK_KAFKA_CLIENT_' : prefix;
      opts.ssl.cert = readFileSync(env[`${certPrefix}CERT_FILE`]);
      opts.ssl.key = readFileSync(env[`${certPrefix}KEY_FILE`]);
    }
  }
  if (security.startsWith('sasl_') && oauth) {
    const secretFile = env[`${prefix}OAUTH_CLIENT_SECRET_FILE`];
    opts.sasl = { mechanism: 'oauthbearer', oauthBearerProvider: tokenProvider(user, readSecret(secretFile)) };
  } else if (security.startsWith('sasl_')) {
    opts.sasl = {
      mechanism: mechanism.toLowerCase(),
      username: user,
      password: readSecret(env[`${prefix}PASSWORD_FILE`]),
    };
  }
  return { opts, user };
}

// --- OAUTHBEARER ------------------------------------------------------------

const tokenUrl = env.STACK_KAFKA_OAUTH_TOKEN_URL;
const stackEndpoint = (path) => new URL(path, tokenUrl).href;

/** POST the client-credentials grant (HTTP Basic, RFC 6749 §2.3.1). Returns the HTTP status and JSON body. */
async function requestToken(clientId, secret) {
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64');
  const res = await fetch(tokenUrl, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  });
  return { status: res.status, body: await res.json() };
}

/**
 * kafkajs calls the provider at every (re-)authentication of every connection. It re-authenticates
 * once less than reauthenticationThreshold (10 s) of the session is left, and the broker refuses a
 * second re-authentication within a second (ILLEGAL_SASL_STATE): a token handed out must have well
 * over 10 s left. Reuse one while more than half its lifetime and 15 s are left, else fetch anew.
 */
function tokenProvider(clientId, secret) {
  let cached;
  return async () => {
    const now = Date.now();
    if (!cached || now > cached.refreshAt) {
      const { status, body } = await requestToken(clientId, secret);
      if (status !== 200)
        throw new Error(`token endpoint answered ${status} ${body.error ?? ''} for client ${clientId}`);
      const keepMs = Math.max((body.expires_in * 1000) / 2, 15000);
      cached = { value: body.access_token, refreshAt: now + body.expires_in * 1000 - keepMs };
    }
    return { value: cached.value };
  };
}

async function tokenStats() {
  const res = await fetch(stackEndpoint('/stats'));
  return res.json();
}

/** A SASL message of kafkajs's protocol layer: the raw bytes with their int32 length in front. */
function saslBytes(text) {
  const body = Buffer.from(text);
  const out = Buffer.alloc(4 + body.length);
  out.writeInt32BE(body.length);
  body.copy(out, 4);
  return out;
}

/**
 * OAUTHBEARER as RFC 7628 §3.2.3 has it, as a kafkajs authenticationProvider. The broker does not
 * refuse a bad token with an error code: it answers the client's first message with an error
 * challenge (`{"status":"invalid_token"}`), which kafkajs's built-in OAUTHBEARER ignores, so it
 * reports "authentication successful" and the broker closes the connection at the first request.
 * This one reads the challenge, answers with %x01 as the RFC says, and throws what the broker
 * says then (SASL_AUTHENTICATION_FAILED with its message).
 */
const rfc7628OAuthBearer =
  (token) =>
  ({ saslAuthenticate }) => ({
    authenticate: async () => {
      const raw = { decode: async (bytes) => bytes.subarray(4), parse: async (bytes) => bytes };
      const challenge = await saslAuthenticate({
        request: { encode: async () => saslBytes(`n,,\x01auth=Bearer ${token}\x01\x01`) },
        response: raw,
      });
      if (challenge.length === 0) return;
      let detail = '';
      try {
        await saslAuthenticate({ request: { encode: async () => saslBytes('\x01') }, response: raw });
      } catch (err) {
        detail = `; then ${err.type ?? err.name}: ${err.message}`;
      }
      throw new KafkaJSSASLAuthenticationError(
        `SASL OAUTHBEARER authentication failed: the broker answered ${challenge.toString()}${detail}`,
      );
    },
  });

/**
 * Connects with a fixed token and lists topics. `provider`: 'kafkajs' (its built-in OAUTHBEARER)
 * or 'rfc7628' (rfc7628OAuthBearer). Returns 'accepted' or the error.
 */
async function tryToken(token, provider) {
  const sasl =
    provider === 'kafkajs'
      ? { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: token }) }
      : { mechanism: 'oauthbearer', authenticationProvider: rfc7628OAuthBearer(token) };
  const admin = new Kafka({
    clientId: 'stack-smoke-token',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    ssl: security === 'sasl_ssl' ? { ca: [readFileSync(env.STACK_KAFKA_CA_FILE)] } : undefined,
    sasl,
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return 'accepted';
  } catch (err) {
    return `${err.name}: ${err.message}`;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** The broker must refuse `token`: checked through the RFC 7628 exchange, and shown as kafkajs reports it. */
async function expectTokenRefused(token, what) {
  const outcome = await tryToken(token, 'rfc7628');
  say(`broker, ${what}: ${outcome}`);
  if (!/SASL OAUTHBEARER authentication failed/.test(outcome)) throw new Error(`the broker did not refuse ${what}`);
  say(`  (kafkajs's built-in OAUTHBEARER reports it as: ${await tryToken(token, 'kafkajs')})`);
}

async function oauthRefusals(user) {
  const wrong = await requestToken(user, 'not-the-secret');
  say(`token endpoint, client ${user} with a wrong secret: ${wrong.status} ${JSON.stringify(wrong.body)}`);
  if (wrong.status !== 401 || wrong.body.error !== 'invalid_client')
    throw new Error('the token endpoint did not refuse a wrong client secret with 401 invalid_client');
  // A token the broker must not take: the claims and kid of a real one, signed by another key.
  const discovery = await (await fetch(stackEndpoint('/.well-known/openid-configuration'))).json();
  const { keys } = await (await fetch(discovery.jwks_uri)).json();
  const { privateKey } = await generateKeyPair('RS256');
  const now = Math.floor(Date.now() / 1000);
  const forged = await new SignJWT({ scope: 'kafka' })
    .setProtectedHeader({ alg: 'RS256', kid: keys[0].kid, typ: 'JWT' })
    .setSubject(user)
    .setIssuer(discovery.issuer)
    .setAudience('kafka')
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .setJti(randomUUID())
    .sign(privateKey);
  await expectTokenRefused(forged, `a token for ${user} with the endpoint's kid signed by another key`);
  const good = await requestToken(user, readSecret(env.STACK_KAFKA_OAUTH_CLIENT_SECRET_FILE));
  const outcome = await tryToken(good.body.access_token, 'rfc7628');
  say(`broker, a token from the endpoint through the same RFC 7628 exchange: ${outcome}`);
  if (outcome !== 'accepted') throw new Error('the RFC 7628 exchange refused a good token');
}

/** --expired: re-authentication across a token's expiry, then an expired token refused. */
async function oauthExpiry(appOpts, topic, user, secret) {
  const first = await requestToken(user, secret);
  const lifetime = first.body.expires_in;
  if (!(lifetime > 15 && lifetime <= 60))
    throw new Error(
      `--expired wants a stack with STACK_KAFKA_OAUTH_TOKEN_LIFETIME_SEC from 16 to 60 (tokens live ${lifetime} s)`,
    );
  const before = (await tokenStats()).issuedByClient[user] ?? 0;
  const producer = new Kafka(appOpts).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: [{ value: 'before expiry' }] });
  say(`producer connected; waiting ${lifetime + 2} s, past its token's expiry, on the same connection`);
  await new Promise((r) => setTimeout(r, (lifetime + 2) * 1000));
  await producer.send({ topic, acks: -1, messages: [{ value: 'after expiry' }] });
  const after = (await tokenStats()).issuedByClient[user] ?? 0;
  await producer.disconnect();
  say(`sent again after the expiry; tokens issued to ${user} meanwhile: ${after - before}`);
  if (after - before < 1) throw new Error('no new token was fetched across the expiry (no re-authentication)');
  // first.body's token: exp was at issue + lifetime; the broker allows 30 s of clock skew.
  const waitMs = Math.max(0, (lifetime + 31) * 1000 - (lifetime + 2) * 1000);
  say(`holding a token past its exp + 30 s clock skew (${Math.round(waitMs / 1000)} s more)`);
  await new Promise((r) => setTimeout(r, waitMs));
  await expectTokenRefused(first.body.access_token, `an expired token for ${user}`);
}

const stack = (...args) =>
  execFileSync('bash', [resolve(ROOT, 'scripts/stack.sh'), ...args], { stdio: ['ignore', 'ignore', 'inherit'] });

async function grant(admin, user, topic, group) {
  const principal = `User:${user}`;
  const acl = (resourceType, resourceName, operation) => ({
    resourceType,
    resourceName,
    resourcePatternType: ResourcePatternTypes.LITERAL,
    principal,
    host: '*',
    operation,
    permissionType: AclPermissionTypes.ALLOW,
  });
  await admin.createAcls({
    acl: [
      acl(AclResourceTypes.TOPIC, topic, AclOperationTypes.DESCRIBE),
      acl(AclResourceTypes.TOPIC, topic, AclOperationTypes.READ),
      acl(AclResourceTypes.TOPIC, topic, AclOperationTypes.WRITE),
      acl(AclResourceTypes.GROUP, group, AclOperationTypes.READ),
      acl(AclResourceTypes.CLUSTER, 'kafka-cluster', AclOperationTypes.IDEMPOTENT_WRITE),
    ],
  });
  // ACLs take effect asynchronously (the broker applies them from the metadata log after
  // createAcls returns): wait until the broker's authorizer lists them all.
  const deadline = Date.now() + 10000;
  for (;;) {
    const { resources } = await admin.describeAcls({
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      principal,
      host: '*',
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    });
    const n = resources
      .filter(
        (r) => r.resourceName === topic || r.resourceName === group || r.resourceType === AclResourceTypes.CLUSTER,
      )
      .reduce((sum, r) => sum + r.acls.length, 0);
    if (n >= 5) break;
    if (Date.now() > deadline) throw new Error(`ACLs of ${principal} not visible after 10 s (${n} of 5)`);
    await new Promise((r) => setTimeout(r, 100));
  }
  say(
    `granted ${principal} DESCRIBE/READ/WRITE on topic ${topic}, READ on group ${group}, IDEMPOTENT_WRITE on the cluster`,
  );
}

async function produceConsume(kafka, topic, group, label) {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const value = `hello ${label} ${Date.now()}`;
  const t0 = Date.now();
  await producer.send({ topic, acks: -1, messages: [{ key: 'k', value }] });
  say(`produced to ${topic} with acks=-1 in ${Date.now() - t0} ms`);
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10000, heartbeatInterval: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got = await new Promise((resolveGot, reject) => {
    const timer = setTimeout(() => reject(new Error('no message consumed within 30 s')), 30000);
    consumer
      .run({
        eachMessage: async ({ message }) => {
          if (message.value?.toString() === value) {
            clearTimeout(timer);
            resolveGot(message.value.toString());
          }
        },
      })
      .catch(reject);
  });
  say(`consumed "${got}" in group ${group}`);
  await consumer.disconnect();
}

/**
 * kafkajs hides a refused FindCoordinator: it tries every broker and then throws
 * KafkaJSGroupCoordinatorNotFound ("Failed to find group coordinator"); the broker's error code
 * (GROUP_AUTHORIZATION_FAILED) is only in its debug log. Collect the error types it logs.
 */
function loggedErrorTypes() {
  const seen = new Set();
  const logCreator =
    () =>
    ({ log }) => {
      const t = log?.error?.type ?? log?.error?.cause?.type;
      if (typeof t === 'string') seen.add(t);
    };
  return { seen, logCreator };
}

async function expectRefused(guestOpts, topic, group) {
  const logs = loggedErrorTypes();
  const kafka = new Kafka({ ...guestOpts, logLevel: logLevel.DEBUG, logCreator: logs.logCreator });
  const producer = kafka.producer({ retry: { retries: 0 } });
  await producer.connect();
  let topicCode = 'none';
  try {
    await producer.send({ topic, acks: -1, messages: [{ value: 'x' }] });
  } catch (err) {
    topicCode = err.type ?? err.cause?.type ?? err.name;
  }
  await producer.disconnect();
  say(`guest produce to ${topic}: ${topicCode}`);
  if (topicCode !== 'TOPIC_AUTHORIZATION_FAILED')
    throw new Error(`guest produce was not refused with TOPIC_AUTHORIZATION_FAILED (${topicCode})`);
  const consumer = kafka.consumer({ groupId: group, retry: { retries: 0 } });
  let groupCode = 'none';
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: /^never-matches-anything$/ });
    await new Promise((resolveRun, reject) => {
      consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
      consumer.run({ eachMessage: async () => undefined }).catch(reject);
      setTimeout(resolveRun, 15000);
    });
  } catch (err) {
    groupCode = err.type ?? err.cause?.type ?? err.name;
    if (groupCode === 'KafkaJSGroupCoordinatorNotFound' && logs.seen.has('GROUP_AUTHORIZATION_FAILED')) {
      groupCode =
        'GROUP_AUTHORIZATION_FAILED (kafkajs reports it as KafkaJSGroupCoordinatorNotFound: "Failed to find group coordinator")';
    }
  }
  await consumer.disconnect().catch(() => undefined);
  say(`guest join of group ${group}: ${groupCode}`);
  if (!groupCode.startsWith('GROUP_AUTHORIZATION_FAILED'))
    throw new Error(`guest group join was not refused with GROUP_AUTHORIZATION_FAILED (${groupCode})`);
}

async function waitForLeader(admin, topic) {
  const deadline = Date.now() + 15000;
  for (;;) {
    try {
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      if (md.topics[0].partitions.every((p) => p.leader >= 0)) return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`topic ${topic} has no leader after 15 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main() {
  const suffix = `${process.pid}-${Date.now()}`;
  const topic = `smoke-${suffix}`;
  const group = `smoke-group-${suffix}`;
  const app = clientOptions('app');
  say(
    `brokers ${brokers.join(',')}, security ${security}${mechanism && security.startsWith('sasl_') ? ` (${mechanism})` : ''}, acls ${acls}, user ${app.user ?? '(none)'}`,
  );
  const adminClient = new Kafka(clientOptions(acls ? 'admin' : 'app').opts).admin();
  await adminClient.connect();
  const rf = brokers.length >= 3 ? 3 : 1;
  // Not `waitForLeaders`: on several brokers kafkajs asks a broker that has not yet seen the new
  // topic in its metadata and fails with UNKNOWN_TOPIC_OR_PARTITION; poll instead.
  await adminClient.createTopics({
    waitForLeaders: false,
    topics: [{ topic, numPartitions: 1, replicationFactor: rf }],
  });
  await waitForLeader(adminClient, topic);
  say(`created topic ${topic} (replication factor ${rf})`);
  if (acls) await grant(adminClient, app.user, topic, group);

  const kafka = new Kafka(app.opts);
  await produceConsume(kafka, topic, group, 'first');

  if (acls) {
    const guest = clientOptions('guest');
    await expectRefused(guest.opts, topic, `${group}-guest`);
  }

  if (oauth) {
    say(`tokens issued so far: ${JSON.stringify((await tokenStats()).issuedByClient)}`);
    await oauthRefusals(app.user);
    if (checkExpiry) await oauthExpiry(app.opts, topic, app.user, readSecret(env.STACK_KAFKA_OAUTH_CLIENT_SECRET_FILE));
  }

  if (killOne) {
    if (brokers.length < 3) throw new Error('--kill-one needs a three-broker stack');
    const meta = await adminClient.fetchTopicMetadata({ topics: [topic] });
    const leader = meta.topics[0].partitions[0].leader;
    say(`partition 0 leader is node ${leader}: stack.sh kill kafka-${leader}`);
    stack('kill', `kafka-${leader}`);
    // A client of our own would retry a failed send within its request deadline; so does this,
    // with a fresh producer per attempt (kafkajs may give up at once with a connection error when
    // the seed or the old leader it picks is the dead broker), for at most 60 s.
    const t0 = Date.now();
    for (let attempt = 1; ; attempt++) {
      const producer = new Kafka({
        ...app.opts,
        retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2000 },
      }).producer({ idempotent: true, maxInFlightRequests: 1 });
      try {
        await producer.connect();
        await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'after-kill' }] });
        say(
          `produced with acks=-1 after the SIGKILL in ${Date.now() - t0} ms, attempt ${attempt} (leader moved, 2 of 3 in sync)`,
        );
        break;
      } catch (err) {
        say(
          `attempt ${attempt} after the SIGKILL failed at ${Date.now() - t0} ms: ${err.type ?? err.name}: ${err.message}`,
        );
        if (Date.now() - t0 > 60000) throw err;
      } finally {
        await producer.disconnect().catch(() => undefined);
      }
    }
    const after = await adminClient.fetchTopicMetadata({ topics: [topic] });
    const p0 = after.topics[0].partitions[0];
    say(`partition 0 now: leader ${p0.leader}, isr [${p0.isr.join(',')}]`);
    stack('start', `kafka-${leader}`);
    say(`kafka-${leader} started again`);
  }
  await adminClient.disconnect();
  say('OK');
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`[smoke] FAILED: ${err.type ? `${err.type}: ` : ''}${err.message}`);
    process.exit(1);
  },
);
