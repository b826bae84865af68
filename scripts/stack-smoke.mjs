#!/usr/bin/env node
/* global process, console, setTimeout, clearTimeout */
// Smoke test of a scripts/stack.sh Kafka, with the settings `stack.sh env` prints:
//
//   eval "$(scripts/stack.sh env)" && node scripts/stack-smoke.mjs [--kill-one]
//
// - connects as STACK_KAFKA_USER (SASL: password file; ssl: client certificate; TLS: the stack CA)
//   and produces then consumes one message (acks=-1) on a fresh topic;
// - with STACK_KAFKA_ACLS_ENFORCED=true, first grants that user the ACLs it needs (as the admin user), and
//   shows that STACK_KAFKA_GUEST_USER, who has none, is refused with TOPIC_AUTHORIZATION_FAILED
//   and GROUP_AUTHORIZATION_FAILED;
// - with --kill-one on a three-broker stack: the topic has replication factor 3, the script
//   SIGKILLs the broker leading its partition 0 (`stack.sh kill kafka-<n>`), produces again with
//   acks=-1 and says how long the produce took; the broker is started again at the end.
// Exits non-zero when a step fails. Passwords are never printed.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
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
} = require('kafkajs');

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
  if (security.startsWith('sasl_')) {
    opts.sasl = {
      mechanism: mechanism.toLowerCase(),
      username: user,
      password: readSecret(env[`${prefix}PASSWORD_FILE`]),
    };
  }
  return { opts, user };
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
