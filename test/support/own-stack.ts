import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const ROOT = resolve(__dirname, '../..');

/** A `scripts/stack.sh` stack of one test file's own, in a state dir of its own. */
export interface OwnStack {
  /** Its state dir: `<REPLYGATE_STACK_DIR>-<tag>-<pid>` when the run names one, else `.stack/test-<pid>-<tag>`. */
  dir: string;
  /** `scripts/stack.sh <args>` on it; resolves with its output (fails on a non-zero exit). */
  stackSh(...args: string[]): Promise<{ stdout: string; stderr: string }>;
}

/**
 * A stack shaped by `options` alone (`STACK_REDIS_SHAPE`, `STACK_REDIS_ACL`, …): the Kafka
 * topology options of the run's shell are dropped (its `STACK_KAFKA_VERSION` is kept, so a Kafka 4
 * run starts Kafka 4 here too), and the broker heap is small (it is one more JVM beside the run's).
 */
export function ownStack(tag: string, options: Record<string, string>): OwnStack {
  const base = process.env['REPLYGATE_STACK_DIR'];
  const dir = base
    ? `${base.replace(/\/+$/, '')}-${tag}-${process.pid}`
    : resolve(ROOT, `.stack/test-${process.pid}-${tag}`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REPLYGATE_STACK_DIR: dir,
    STACK_KAFKA_HEAP_OPTS: '-Xms128m -Xmx384m',
    ...options,
  };
  for (const k of ['STACK_KAFKA_BROKERS', 'STACK_KAFKA_SECURITY', 'STACK_KAFKA_ACLS']) delete env[k];
  return {
    dir,
    stackSh: (...args: string[]) =>
      exec('bash', [resolve(ROOT, 'scripts/stack.sh'), ...args], { env, maxBuffer: 16 << 20 }),
  };
}
