import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { parseStackEnv } from '../../examples/demo/stack-env';
import { serversOf, type TestStack } from '../../test/support/test-stack';

const exec = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const STACK_SCRIPT = resolve(ROOT, 'scripts/stack.sh');

/** A Redis deployment shape the fault scenarios 14-16 run on. */
export type RedisFaultShape = 'cluster' | 'sentinel';

/** One data node of the stack, as `scripts/stack.sh status` and `CLUSTER NODES` say. */
export interface RedisNode {
  /** `redis-<n>` */
  comp: string;
  port: number;
  pid: number | undefined;
  /** `master`, `replica of redis-<n>`, `?` (stopped or not answering). */
  role: string;
}

/** One line of `CLUSTER NODES`. */
export interface ClusterNodeLine {
  id: string;
  port: number;
  /** `redis-<n>` of this stack. */
  comp: string;
  master: boolean;
  /** A replica's master's id. */
  masterId: string | undefined;
  failed: boolean;
  /** Slot ranges it serves (masters), inclusive. */
  slots: [number, number][];
}

/**
 * A private Redis Cluster (three masters, three replicas) or Sentinel set (a primary, two replicas,
 * three sentinels) with one Kafka broker, from `scripts/stack.sh` with `STACK_REDIS_SHAPE` in its
 * own state dir; its nodes can be SIGKILLed and started again, and asked who is master of what.
 */
export class RedisShapeStack {
  private readonly clients = new Map<number, Redis>();

  private constructor(
    readonly dir: string,
    readonly shape: RedisFaultShape,
    /** The stack as the scenario kit takes it (broker, Redis settings). */
    readonly stack: TestStack,
    private readonly keep: boolean,
    /** Port of every component (`redis-<n>`, `sentinel-<n>`): fixed for the stack's life. */
    readonly ports: ReadonlyMap<string, number>,
  ) {}

  /** Start (or find running) the stack in `dir`; `keep` leaves it running after {@link down}. */
  static async up(dir: string, shape: RedisFaultShape, keep: boolean): Promise<RedisShapeStack> {
    const env = RedisShapeStack.env(dir, shape);
    let stdout: string;
    try {
      ({ stdout } = await exec('bash', [STACK_SCRIPT, 'up'], { env, maxBuffer: 16 << 20 }));
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`Redis ${shape} stack in ${dir} did not start: ${e.message}\n${e.stderr ?? ''}`);
    }
    const servers = serversOf(parseStackEnv(stdout));
    if (servers.redisShape !== shape)
      throw new Error(`${dir} holds a stack with a ${servers.redisShape} Redis, not a ${shape}: run down first`);
    const stack: TestStack = { ...servers, source: 'local', stop: async () => undefined };
    const { stdout: status } = await exec('bash', [STACK_SCRIPT, 'status'], { env, maxBuffer: 16 << 20 });
    const ports = new Map<string, number>();
    for (const m of status.matchAll(/^((?:redis|sentinel)-\d+): .*?127\.0\.0\.1:(\d+)/gm))
      ports.set(m[1]!, Number(m[2]));
    return new RedisShapeStack(dir, shape, stack, keep, ports);
  }

  /**
   * A connection to one node (cached). The harness asks the nodes directly rather than through
   * `stack.sh`, whose every call forks a shell and several redis-cli: on a busy machine that took
   * seconds, in the middle of the fault.
   */
  client(comp: string): Redis {
    const port = this.ports.get(comp);
    if (port === undefined) throw new Error(`no ${comp} in ${this.dir}`);
    let c = this.clients.get(port);
    if (c === undefined) {
      c = new Redis({
        host: '127.0.0.1',
        port,
        lazyConnect: true,
        maxRetriesPerRequest: 1,
        connectTimeout: 1000,
        retryStrategy: () => 200,
      });
      c.on('error', () => undefined);
      this.clients.set(port, c);
    }
    return c;
  }

  /** The pid of a running component, from its pid file (undefined when stopped). */
  pidOf(comp: string): number | undefined {
    try {
      const pid = Number(readFileSync(resolve(this.dir, `${comp}.pid`), 'utf8').trim());
      process.kill(pid, 0);
      return pid;
    } catch {
      return undefined;
    }
  }

  /** The component on `port` (`redis-<n>`), or `?:<port>`. */
  compOf(port: number): string {
    for (const [comp, p] of this.ports) if (p === port) return comp;
    return `?:${port}`;
  }

  private static env(dir: string, shape: RedisFaultShape): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, REPLYGATE_STACK_DIR: resolve(dir), STACK_REDIS_SHAPE: shape };
    // one plain broker: these scenarios are about Redis
    for (const k of [
      'STACK_KAFKA_BROKERS',
      'STACK_KAFKA_SECURITY',
      'STACK_KAFKA_ACLS',
      'STACK_REDIS_ACL',
      'STACK_REDIS_TLS',
    ])
      delete env[k];
    return env;
  }

  /** `scripts/stack.sh <args>` on this stack; its stdout. */
  async run(...args: string[]): Promise<string> {
    const { stdout } = await exec('bash', [STACK_SCRIPT, ...args], {
      env: RedisShapeStack.env(this.dir, this.shape),
      maxBuffer: 16 << 20,
    });
    return stdout;
  }

  /** redis-cli on one component with the stack's credentials (`stack.sh redis-cli`). */
  cli(comp: string, ...args: string[]): Promise<string> {
    return this.run('redis-cli', comp, ...args);
  }

  /** The data nodes: pid (undefined when stopped) and role. */
  async nodes(): Promise<RedisNode[]> {
    const out = await this.run('status');
    const nodes: RedisNode[] = [];
    for (const m of out.matchAll(
      /^(redis-\d+): (?:running \(pid (\d+)\)|stopped \(port) 127\.0\.0\.1:(\d+)\)? ?(.*)$/gm,
    )) {
      nodes.push({
        comp: m[1]!,
        pid: m[2] === undefined ? undefined : Number(m[2]),
        port: Number(m[3]),
        role: m[2] === undefined ? '?' : m[4]!.trim() || '?',
      });
    }
    return nodes;
  }

  /** Sentinels' pids (undefined when stopped). */
  async sentinels(): Promise<Map<string, number | undefined>> {
    const out = await this.run('status');
    const s = new Map<string, number | undefined>();
    for (const m of out.matchAll(/^(sentinel-\d+): (running \(pid (\d+)\)|stopped)/gm))
      s.set(m[1]!, m[3] === undefined ? undefined : Number(m[3]));
    return s;
  }

  /**
   * Who serves `key` now: the master of its slot (cluster), the primary the sentinels name
   * (sentinel); `stack.sh redis-master-of`.
   */
  async masterOf(key = 'any'): Promise<{ comp: string; port: number; id: string }> {
    const line = (await this.run('redis-master-of', key)).trim();
    const [comp, addr, id] = line.split(' ');
    if (comp === undefined || addr === undefined) throw new Error(`redis-master-of ${key}: ${line}`);
    return { comp, port: Number(addr.split(':')[1]), id: id ?? '' };
  }

  /** `CLUSTER NODES` as the first answering data node sees it (cluster only). */
  async clusterNodes(): Promise<ClusterNodeLine[]> {
    let out: string | undefined;
    for (const comp of this.dataComps()) {
      if (this.pidOf(comp) === undefined) continue;
      out = await (this.client(comp).call('CLUSTER', 'NODES') as Promise<string>).catch(() => undefined);
      if (out !== undefined) break;
    }
    if (out === undefined) throw new Error('no Redis node answered CLUSTER NODES');
    return out
      .trim()
      .split('\n')
      .map((l) => l.trim().split(' '))
      .map((f) => {
        const port = Number(f[1]!.split('@')[0]!.split(':')[1]);
        return {
          id: f[0]!,
          port,
          comp: this.compOf(port),
          master: f[2]!.includes('master'),
          masterId: f[3] === '-' ? undefined : f[3],
          failed: f[2]!.includes('fail'),
          slots: f
            .slice(8)
            .filter((r) => !r.startsWith('['))
            .map((r) => {
              const [lo, hi] = r.split('-');
              return [Number(lo), Number(hi ?? lo)] as [number, number];
            }),
        };
      });
  }

  /** Every running cluster node says `cluster_state:ok` (cluster only). */
  async clusterOk(): Promise<boolean> {
    const running = this.dataComps().filter((c) => this.pidOf(c) !== undefined);
    const states = await Promise.all(
      running.map((c) =>
        (this.client(c).call('CLUSTER', 'INFO') as Promise<string>).catch(() => 'cluster_state:unknown'),
      ),
    );
    return states.every((s) => /cluster_state:ok/.test(s));
  }

  /** The primary the first answering sentinel names (sentinel only). */
  async sentinelPrimary(): Promise<{ comp: string; port: number } | undefined> {
    for (const [comp] of this.ports) {
      if (!comp.startsWith('sentinel-') || this.pidOf(comp) === undefined) continue;
      const addr = (await (
        this.client(comp).call(
          'SENTINEL',
          'GET-MASTER-ADDR-BY-NAME',
          this.stack.redisEnv['REDIS_SENTINEL_MASTER'] ?? '',
        ) as Promise<string[] | null>
      ).catch(() => null)) as string[] | null;
      if (addr?.[1] !== undefined) return { comp: this.compOf(Number(addr[1])), port: Number(addr[1]) };
    }
    return undefined;
  }

  private dataComps(): string[] {
    return [...this.ports.keys()].filter((c) => c.startsWith('redis-'));
  }

  /** SIGKILL one component (`redis-<n>`, `sentinel-<n>`). */
  async kill(comp: string): Promise<void> {
    await this.run('kill', comp);
  }

  /** Start one component (or all with `redis`) and wait until the shape is ready again; ms taken. */
  async start(comp = 'redis'): Promise<number> {
    const t = Date.now();
    await this.run('start', comp);
    return Date.now() - t;
  }

  /** Start whatever is stopped, and wait until the cluster / sentinel set is ready (stack.sh's checks). */
  async healthy(log: (l: string) => void): Promise<void> {
    const stopped = (await this.nodes()).filter((n) => n.pid === undefined).map((n) => n.comp);
    for (const [s, pid] of await this.sentinels()) if (pid === undefined) stopped.push(s);
    if (stopped.length > 0) log(`  ${stopped.join(', ')} not running: starting`);
    // `start redis` starts what is stopped and waits for the whole shape
    await this.start('redis');
  }

  /** Stop the stack, unless it was asked to be kept. */
  async down(): Promise<void> {
    for (const c of this.clients.values()) c.disconnect();
    this.clients.clear();
    if (!this.keep) await this.run('down').catch(() => undefined);
  }
}
