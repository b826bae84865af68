import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { KAFKA_CONNECTION_SOURCES, type KafkaConnectionSettings } from '../../src/config/kafka-connection';
import { loadKafkaConnection } from '../../src/config/load-kafka-connection';
import { createKafka } from '../../src/kafka/kafka-client';
import { silentLogger } from '../../src/observability/logger';
import type { Responder } from '../../src/responder/responder-options';
import { createEchoService } from '../../examples/samples/echo-service';
import { startProcess, type ChildReplica } from './processes';
import { REDIS_SETTING_ENVS, redisChildEnv } from './test-redis';
import type { TestStack } from './test-stack';
import { unique } from './unique';

/** Names private to one test file: reply topic, relay group, key prefix. */
export interface GatewayNames {
  replyTopic: string;
  relayGroup: string;
  keyPrefix: string;
}

export function uniqueGatewayNames(tag: string): GatewayNames {
  return {
    replyTopic: unique(`${tag}.replies`),
    relayGroup: unique(`${tag}-relay`),
    keyPrefix: `${unique(tag)}:`,
  };
}

/** Write a routes file to a temp dir and return its path. */
export function writeRoutes(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'replygate-routes-'));
  const file = join(dir, 'routes.yaml');
  writeFileSync(file, yaml);
  return file;
}

/**
 * The Kafka TLS/SASL settings of the test stack: those of the environment for servers named by
 * env (`KAFKA_BROKERS` with `KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_*`...), none for the stacks a
 * run starts itself (plaintext). Used by `testKafka`, `startEcho`, the gateways' env and the fault
 * harness, so `npm run faults` runs against a secured broker named by env; integration files that
 * build their own responders from `stack.kafkaBrokers` still assume a plaintext broker.
 */
export function stackConnection(stack: TestStack): KafkaConnectionSettings | undefined {
  return stack.source === 'env' ? loadKafkaConnection(process.env) : undefined;
}

/** For a stack the run started itself: blank the connection variables a shell may have set (children inherit it). */
function plaintextEnv(stack: TestStack): Record<string, string> {
  if (stack.source === 'env') return {};
  return Object.fromEntries(Object.values(KAFKA_CONNECTION_SOURCES).map((s) => [s.env, '']));
}

/** Env for a gateway child process on the test stack. */
export function gatewayEnv(
  stack: TestStack,
  names: GatewayNames,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ...plaintextEnv(stack),
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    // (a test that names a Redis of its own in `extra`, a private one say, gets only that one)
    ...redisChildEnv(REDIS_SETTING_ENVS.some((n) => extra[n] !== undefined) ? { redisEnv: {} } : stack),
    PORT: '0',
    HOST: '127.0.0.1',
    REPLYGATE_REPLY_TOPIC: names.replyTopic,
    REPLYGATE_RELAY_GROUP: names.relayGroup,
    REPLYGATE_KEY_PREFIX: names.keyPrefix,
    REPLYGATE_REDIS_CONFIGURE: 'true',
    REPLYGATE_REPLY_TOPIC_PARTITIONS: '4',
    ...extra,
  };
}

/** Start a replica of the given role as a separate process. */
export function startReplica(
  role: 'all' | 'http' | 'relay',
  env: Record<string, string>,
  extra: Record<string, string> = {},
): Promise<ChildReplica> {
  return startProcess(['serve', '--role', role], { ...env, ...extra });
}

/** A kafkajs client for tests, quiet, with the stack's TLS/SASL settings. */
export function testKafka(stack: TestStack, clientId = unique('test')): Kafka {
  return createKafka(stack.kafkaBrokers, clientId, silentLogger(), stackConnection(stack));
}

/** Create topics (idempotent), waiting for leaders. */
export async function createTopics(stack: TestStack, topics: string[], numPartitions = 4): Promise<void> {
  const admin = testKafka(stack).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions })), waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/** Read one metric's summed value (across label sets matching `labels`) from a /metrics page. */
export function metricValue(page: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of page.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labelText = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

/** Fetch a replica's /metrics page. */
export async function metricsOf(replica: ChildReplica): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${replica.port}/metrics`);
  return res.text();
}

/** Start one replica per role, in parallel, as separate processes. */
export function startReplicas(
  env: Record<string, string>,
  roles: readonly ('all' | 'http' | 'relay')[],
): Promise<ChildReplica[]> {
  return Promise.all(roles.map((role) => startReplica(role, env)));
}

/** The echo sample service on `topic`, in this process, with its own group; resolves once it joined. */
export async function startEcho(stack: TestStack, topic: string): Promise<Responder> {
  const connection = stackConnection(stack);
  const echo = createEchoService({
    brokers: stack.kafkaBrokers,
    ...(connection === undefined ? {} : { connection }),
    topic,
    groupId: unique('echo'),
    logger: silentLogger(),
  });
  await echo.start();
  return echo;
}
