import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseStackEnv } from '../../examples/demo/stack-env';
import { redisSettingsOf } from './test-redis';

const exec = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const STACK_SCRIPT = resolve(ROOT, 'scripts/stack.sh');

/** How the test Redis is deployed (`STACK_REDIS_SHAPE` of a stack the run starts). */
export type RedisShape = 'standalone' | 'cluster' | 'sentinel';

/** Real Kafka and Redis servers for integration tests. */
export interface TestStack {
  kafkaBrokers: string[];
  /**
   * One Redis server's URL: the standalone server; on a cluster its first seed node, on a sentinel
   * set its first sentinel (no data there). Only for a standalone Redis (a test that needs one
   * says so): for a client of any shape use `testRedis(stack)`, for a child's env
   * `redisChildEnv(stack)`.
   */
  redisUrl: string;
  /**
   * The Redis connection settings of this stack as a gateway takes them: `REDIS_URL`, or
   * `REDIS_CLUSTER_NODES`, or `REDIS_SENTINELS` + `REDIS_SENTINEL_MASTER`, with `REDIS_USERNAME`,
   * `REDIS_PASSWORD_FILE`, `REDIS_TLS*` when the stack has them.
   */
  redisEnv: Record<string, string>;
  redisShape: RedisShape;
  /** How the servers were obtained. */
  source: 'env' | 'testcontainers' | 'local';
  /** The Kafka broker's version (e.g. `3.9.1`, `4.4.0`), or why it is not known. */
  kafkaVersion?: string;
  /** Restart one component in place (same address), when the source can (local only). */
  restart?: (component: 'kafka' | 'redis') => Promise<void>;
  /**
   * Stop or start one component in place (same address), for outages of a chosen shape: local
   * stacks, and servers named by env when `REPLYGATE_STACK_DIR` says which `scripts/stack.sh` state
   * dir runs them.
   */
  control?: (action: 'stop' | 'start', component: 'kafka' | 'redis') => Promise<void>;
  stop: () => Promise<void>;
}

let stack: Promise<TestStack> | undefined;

/**
 * The servers every integration test uses, started once per test run. In order: servers named by
 * `KAFKA_BROKERS` and the Redis settings (`REDIS_URL`, `REDIS_CLUSTER_NODES` or `REDIS_SENTINELS`
 * with the rest of a gateway's Redis settings); else containers when a container engine answers; else a real
 * Kafka (KRaft, from Maven Central jars) and a private redis-server on free ports via
 * `scripts/stack.sh` (a Redis Cluster or Sentinel set with `STACK_REDIS_SHAPE=cluster|sentinel`).
 * Never the Redis on 6379 that a machine may already run.
 */
export function useTestStack(): Promise<TestStack> {
  stack ??= startStack().then((s) => {
    // Once per run: which broker the integration tier is verified against.
    console.log(
      `test stack: Kafka ${s.kafkaVersion ?? 'version unknown'} at ${s.kafkaBrokers.join(',')}, Redis ${s.redisShape} (${s.source})`,
    );
    return s;
  });
  return stack;
}

/** Stop the servers this run started (no-op for servers named by env). */
export async function stopTestStack(): Promise<void> {
  if (stack === undefined) return;
  const s = await stack.catch(() => undefined);
  stack = undefined;
  await s?.stop();
}

async function startStack(): Promise<TestStack> {
  const brokers = process.env['KAFKA_BROKERS'];
  const redisEnv = redisSettingsOf(process.env);
  const shape = shapeOf(redisEnv);
  if (brokers && (redisEnv['REDIS_URL'] !== undefined || shape !== 'standalone')) {
    const stackDir = process.env['REPLYGATE_STACK_DIR'];
    const control =
      stackDir === undefined
        ? undefined
        : async (action: 'stop' | 'start', component: 'kafka' | 'redis') => {
            await exec('bash', [STACK_SCRIPT, action, component], { env: process.env, maxBuffer: 16 * 1024 * 1024 });
          };
    const kafkaVersion =
      process.env['STACK_KAFKA_SERVER_VERSION'] ||
      (stackDir === undefined ? undefined : versionFromBrokerLog(stackDir)) ||
      'version unknown (servers named by KAFKA_BROKERS)';
    return {
      kafkaBrokers: brokers.split(','),
      redisUrl: oneServerUrl(redisEnv),
      redisEnv,
      redisShape: shape,
      source: 'env',
      kafkaVersion,
      control,
      stop: async () => undefined,
    };
  }
  if (process.env['REPLYGATE_TEST_NO_CONTAINERS'] !== 'true' && (await containerEngineAnswers())) {
    return startContainers();
  }
  return startLocal();
}

async function containerEngineAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

async function startContainers(): Promise<TestStack> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const redis = await new GenericContainer('redis:7.2')
    .withCommand(['redis-server', '--notify-keyspace-events', 'K$', '--save', '', '--appendonly', 'no'])
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
    .start();
  const kafka = await new KafkaContainer('confluentinc/cp-kafka:7.7.1').withKraft().start();
  return {
    kafkaBrokers: [`${kafka.getHost()}:${kafka.getMappedPort(9093)}`],
    redisUrl: `redis://${redis.getHost()}:${redis.getMappedPort(6379)}/0`,
    redisEnv: { REDIS_URL: `redis://${redis.getHost()}:${redis.getMappedPort(6379)}/0` },
    redisShape: 'standalone',
    source: 'testcontainers',
    kafkaVersion: '3.7 (confluentinc/cp-kafka:7.7.1)',
    stop: async () => {
      await Promise.allSettled([kafka.stop(), redis.stop()]);
    },
  };
}

/**
 * The version a `scripts/stack.sh` broker logged at start (`Kafka version: 4.4.0`), from its state
 * dir; undefined when there is no such line.
 */
export function versionFromBrokerLog(stackDir: string): string | undefined {
  for (const name of ['kafka.log', 'kafka-1.log']) {
    try {
      const m = /Kafka version: (\S+)/.exec(readFileSync(resolve(stackDir, 'logs', name), 'utf8'));
      if (m) return m[1];
    } catch {
      // not this node layout
    }
  }
  return undefined;
}

/**
 * The servers a `scripts/stack.sh up` / `env` output names (parsed by parseStackEnv): its brokers
 * and its Redis settings of whatever shape.
 */
export function serversOf(
  vars: Record<string, string>,
): Pick<TestStack, 'kafkaBrokers' | 'redisUrl' | 'redisEnv' | 'redisShape'> {
  const redisEnv = redisSettingsOf(vars);
  return {
    kafkaBrokers: (vars['KAFKA_BROKERS'] ?? '').split(','),
    redisUrl: oneServerUrl(redisEnv),
    redisEnv,
    redisShape: shapeOf(redisEnv),
  };
}

/** The deployment shape Redis settings describe (as the gateway reads them). */
export function shapeOf(redisEnv: Record<string, string>): RedisShape {
  if (redisEnv['REDIS_CLUSTER_NODES']) return 'cluster';
  if (redisEnv['REDIS_SENTINELS']) return 'sentinel';
  return 'standalone';
}

/** {@link TestStack.redisUrl}: the URL, else the first cluster node or sentinel (never an empty URL: ioredis reads it as 6379). */
function oneServerUrl(redisEnv: Record<string, string>): string {
  if (redisEnv['REDIS_URL']) return redisEnv['REDIS_URL'];
  const scheme = redisEnv['REDIS_TLS'] === 'true' ? 'rediss' : 'redis';
  const first = (redisEnv['REDIS_CLUSTER_NODES'] ?? redisEnv['REDIS_SENTINELS'] ?? '').split(',')[0];
  return `${scheme}://${first}/0`;
}

/**
 * A private `scripts/stack.sh` stack for this run. The `STACK_KAFKA_*` options in the environment
 * choose its broker, e.g. `STACK_KAFKA_VERSION=4` for Kafka 4, and `STACK_REDIS_SHAPE` its Redis
 * (`cluster`: three masters and three replicas; `sentinel`).
 */
async function startLocal(): Promise<TestStack> {
  const stackDir = resolve(ROOT, `.stack/test-${process.pid}`);
  const env = { ...process.env, REPLYGATE_STACK_DIR: stackDir };
  const run = (...args: string[]) => exec('bash', [STACK_SCRIPT, ...args], { env, maxBuffer: 16 * 1024 * 1024 });
  let stdout: string;
  try {
    ({ stdout } = await run('up'));
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`scripts/stack.sh up failed: ${e.message}\n${e.stderr ?? ''}`);
  }
  const vars = parseStackEnv(stdout);
  const servers = serversOf(vars);
  if (!vars['KAFKA_BROKERS'] || (servers.redisEnv['REDIS_URL'] === undefined && servers.redisShape === 'standalone'))
    throw new Error(
      `scripts/stack.sh up printed no KAFKA_BROKERS/REDIS_URL (or cluster / sentinel settings):\n${stdout}`,
    );
  return {
    ...servers,
    source: 'local',
    kafkaVersion: vars['STACK_KAFKA_SERVER_VERSION'] || versionFromBrokerLog(stackDir) || 'version unknown',
    restart: async (component) => {
      await run('restart', component);
    },
    control: async (action, component) => {
      await run(action, component);
    },
    stop: async () => {
      await run('down').catch(() => undefined);
    },
  };
}
