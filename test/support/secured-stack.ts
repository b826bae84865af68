import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseStackEnv } from '../../examples/demo/stack-env';
import type { GatewayNames } from './gateway-fixture';
import { keysWithoutTtl } from './key-ttl-audit';

const exec = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const STACK_SCRIPT = resolve(ROOT, 'scripts/stack.sh');

/** `scripts/stack.sh`'s client listener security (`STACK_KAFKA_SECURITY`). */
export type StackSecurity = 'sasl_plaintext' | 'ssl' | 'sasl_ssl';
/** A SASL mechanism a stack can enable (`STACK_KAFKA_SASL_MECHANISMS`). */
export type StackMechanism = 'SCRAM-SHA-512' | 'SCRAM-SHA-256' | 'PLAIN' | 'OAUTHBEARER';

/** What a secured stack is made with (fixed at its first `up`). */
export interface SecuredStackOptions {
  security: StackSecurity;
  /** For `sasl_*`: the mechanisms enabled. @defaultValue stack.sh's (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN) */
  mechanisms?: readonly StackMechanism[];
  /** StandardAuthorizer, deny when no ACL matches, super user `admin`. @defaultValue true */
  acls?: boolean;
  /** More `STACK_*` options, e.g. `STACK_KAFKA_OAUTH_TOKEN_LIFETIME_SEC`. */
  env?: Record<string, string>;
}

/** The users every secured stack has: `admin` (super user), `replygate`, `guest` (stack.sh's names). */
export type StackUser = 'admin' | 'app' | 'guest';

/** A secured `scripts/stack.sh` stack of one test file: what its `env` printed. */
export interface SecuredStack {
  /** The state dir (REPLYGATE_STACK_DIR of this stack). */
  dir: string;
  kafkaBrokers: string[];
  redisUrl: string;
  /** Its Redis settings for a child (`REDIS_URL`): secured stacks keep a standalone Redis. */
  redisEnv: Record<string, string>;
  /** Kafka's `security.protocol` of the client listener: `SASL_SSL`, `SSL`, `SASL_PLAINTEXT`. */
  protocol: 'SASL_SSL' | 'SSL' | 'SASL_PLAINTEXT';
  /** Every variable `stack.sh env` printed (`STACK_KAFKA_CA_FILE`, `STACK_KAFKA_USER`, ...). */
  vars: Record<string, string>;
  /** `stack.sh <args>` on this stack (`stop kafka`, `restart redis`, ...). */
  run(...args: string[]): Promise<string>;
  /** `stack.sh down`: stop everything and delete the state dir. */
  down(): Promise<void>;
}

/**
 * Start a secured stack of its own via `scripts/stack.sh up` (client listener per `security`, ACLs
 * enforced), in a state dir of this run: `<REPLYGATE_STACK_DIR>-<name>-<pid>` when the run names a
 * stack dir (so helpers and CI keep their stacks where they chose), else
 * `.stack/test-<pid>-<name>`. The default plaintext test stack is not touched.
 */
export async function startSecuredStack(name: string, options: SecuredStackOptions): Promise<SecuredStack> {
  const base = process.env['REPLYGATE_STACK_DIR'];
  const dir = base
    ? `${base.replace(/\/+$/, '')}-${name}-${process.pid}`
    : resolve(ROOT, `.stack/test-${process.pid}-${name}`);
  mkdirSync(resolve(dir, '..'), { recursive: true });
  const env: NodeJS.ProcessEnv = { ...withoutStackOptions(process.env), REPLYGATE_STACK_DIR: dir };
  env['STACK_KAFKA_SECURITY'] = options.security;
  env['STACK_KAFKA_ACLS'] = String(options.acls ?? true);
  if (options.mechanisms !== undefined) env['STACK_KAFKA_SASL_MECHANISMS'] = options.mechanisms.join(',');
  Object.assign(env, options.env ?? {});
  const run = async (...args: string[]): Promise<string> => {
    try {
      const { stdout } = await exec('bash', [STACK_SCRIPT, ...args], { env, maxBuffer: 16 * 1024 * 1024 });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`scripts/stack.sh ${args.join(' ')} (${dir}) failed: ${e.message}\n${e.stderr ?? ''}`);
    }
  };
  let vars: Record<string, string>;
  try {
    vars = parseStackEnv(await run('up'));
  } catch (err) {
    await run('down').catch(() => undefined);
    throw err;
  }
  const brokers = vars['KAFKA_BROKERS'];
  const redisUrl = vars['REDIS_URL'];
  const protocol = vars['STACK_KAFKA_PROTOCOL'];
  if (!brokers || !redisUrl || (protocol !== 'SASL_SSL' && protocol !== 'SSL' && protocol !== 'SASL_PLAINTEXT')) {
    await run('down').catch(() => undefined);
    throw new Error(`scripts/stack.sh up (${dir}) printed no secured stack: ${JSON.stringify(vars)}`);
  }
  return {
    dir,
    kafkaBrokers: brokers.split(','),
    redisUrl,
    redisEnv: { REDIS_URL: redisUrl },
    protocol,
    vars,
    run,
    down: async () => {
      await run('down').catch(() => undefined);
    },
  };
}

/**
 * Secured stacks of one test file, started side by side in a `before` hook of the calling suite
 * and stopped in its `after` hook, after checking that every key their Redis holds has a TTL (the
 * global key audit sees only the default test stack). Register the `after` hooks that stop the
 * file's gateways and services before calling this: mocha runs `after` hooks in that order.
 * Returns a getter of the stacks (valid once the hook ran).
 *
 * @example
 * const stacks = useSecuredStacks({ sasl: { security: 'sasl_ssl' }, mtls: { security: 'ssl' } });
 * it('...', () => { const { sasl } = stacks(); ... });
 */
export function useSecuredStacks<K extends string>(
  wanted: Record<K, SecuredStackOptions>,
  timeoutMs = 180_000,
): () => Record<K, SecuredStack> {
  let stacks: Record<K, SecuredStack> | undefined;
  const started: SecuredStack[] = [];
  before(async function () {
    this.timeout(timeoutMs);
    const entries = Object.entries(wanted) as [K, SecuredStackOptions][];
    const results = await Promise.allSettled(
      entries.map(async ([name, options]) => {
        const stack = await startSecuredStack(name, options);
        started.push(stack);
        return [name, stack] as const;
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const named = results.map((r) => (r as PromiseFulfilledResult<readonly [K, SecuredStack]>).value);
    // Which broker the file ran against (STACK_KAFKA_VERSION chooses, as for the default stack).
    const versions = named.map(([name, s]) => `${name} ${s.vars['STACK_KAFKA_SERVER_VERSION'] ?? '?'}`);
    console.log(`      secured stacks: ${versions.join(', ')}`);
    stacks = Object.fromEntries(named) as Record<K, SecuredStack>;
  });
  after(async function () {
    this.timeout(60_000);
    try {
      for (const stack of started) {
        const { scanned, withoutTtl } = await keysWithoutTtl(stack);
        if (withoutTtl.length > 0) {
          throw new Error(
            `${withoutTtl.length} of ${scanned} keys in ${stack.dir}'s Redis have no TTL: ${withoutTtl.slice(0, 20).join(', ')}`,
          );
        }
      }
    } finally {
      await Promise.allSettled(started.map((s) => s.down()));
    }
  });
  return () => {
    if (stacks === undefined) throw new Error('secured stacks not started (used outside the suite?)');
    return stacks;
  };
}

/** Options that make a stack's topology: only the caller's count (a shell may hold others). */
const TOPOLOGY_OPTIONS = [
  'STACK_KAFKA_SECURITY',
  'STACK_KAFKA_ACLS',
  'STACK_KAFKA_SASL_MECHANISMS',
  'STACK_KAFKA_BROKERS',
  'STACK_KAFKA_OAUTH_TOKEN_LIFETIME_SEC',
  // a secured stack is about Kafka: its Redis stays one plain server whatever the run's shape
  'STACK_REDIS_SHAPE',
  'STACK_REDIS_ACL',
  'STACK_REDIS_TLS',
];

/**
 * `process.env` without topology options, so only ours shape the stack. The rest is kept:
 * `STACK_KAFKA_VERSION=4` runs the secured stacks on Kafka 4 too, as it does the default one.
 */
function withoutStackOptions(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) {
    if (!TOPOLOGY_OPTIONS.includes(k) && k !== 'KAFKA_BROKERS' && k !== 'REDIS_URL') out[k] = v;
  }
  return out;
}

/** The stack's name of a user (`STACK_KAFKA_USER`, ..._ADMIN_USER, ..._GUEST_USER). */
export function userName(stack: SecuredStack, user: StackUser): string {
  const v = stack.vars[userVar(user, 'USER')];
  if (v === undefined) throw new Error(`stack ${stack.dir} printed no ${userVar(user, 'USER')}`);
  return v;
}

/** `STACK_KAFKA_<ADMIN_|GUEST_|>SUFFIX` */
function userVar(user: StackUser, suffix: string): string {
  return user === 'app' ? `STACK_KAFKA_${suffix}` : `STACK_KAFKA_${user.toUpperCase()}_${suffix}`;
}

/** A stack variable that must be there. */
export function stackVar(stack: SecuredStack, name: string): string {
  const v = stack.vars[name];
  if (v === undefined || v === '') throw new Error(`stack ${stack.dir} printed no ${name}`);
  return v;
}

/** The password file of a user (SCRAM / PLAIN stacks). */
export function passwordFile(stack: SecuredStack, user: StackUser): string {
  return stackVar(stack, userVar(user, 'PASSWORD_FILE'));
}

/** Names other test files use for `GatewayNames`; re-exported for one import. */
export type { GatewayNames };
