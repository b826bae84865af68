import { execFile } from 'node:child_process';
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { setPriority } from 'node:os';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseStackEnv } from '../../examples/demo/stack-env';
import { serversOf, type TestStack } from './test-stack';
import { createTopics, testKafka } from './gateway-fixture';

const exec = promisify(execFile);
const ROOT = resolve(__dirname, '../..');

/** One Kafka node of a three-broker stack: KRaft node id n is `kafka-<n>` for scripts/stack.sh. */
export interface ClusterNode {
  id: number;
  /** host:port of its client listener. */
  address: string;
}

/** What `scripts/stack.sh stop kafka-<n>` did. */
export interface StopOutcome {
  ms: number;
  /** It did not exit within the script's 20 s after SIGTERM and was SIGKILLed. */
  sigkilled: boolean;
}

/**
 * A private three-broker Kafka (KRaft, three combined broker+controller nodes, replication factor
 * 3, `min.insync.replicas=2`, `broker.session.timeout.ms=5000`) plus its own Redis, from
 * `scripts/stack.sh` with `STACK_KAFKA_BROKERS=3` in its own state dir; one node at a time can be
 * SIGKILLed, SIGTERMed (controlled shutdown) and started again.
 */
export class ClusterStack {
  private constructor(
    readonly dir: string,
    /** The stack as the scenario kit takes it (brokers, Redis). */
    readonly stack: TestStack,
    readonly nodes: readonly ClusterNode[],
    private readonly keep: boolean,
  ) {}

  /** Start (or find running) the stack in `dir`; `keep` leaves it running after {@link down}. */
  static async up(dir: string, keep: boolean): Promise<ClusterStack> {
    const env = ClusterStack.env(dir);
    let stdout = '';
    // One retry: a node has been seen to hang at its very start (nothing logged for 90 s while the
    // other two were ready in 7 s, CI of the refactor commit); `up` stopped the stack on failure.
    for (let attempt = 1; ; attempt++) {
      try {
        ({ stdout } = await exec('bash', [resolve(ROOT, 'scripts/stack.sh'), 'up'], { env, maxBuffer: 16 << 20 }));
        break;
      } catch (err) {
        const e = err as { stderr?: string; message: string };
        if (attempt >= 2)
          throw new Error(`three-broker stack in ${dir} did not start: ${e.message}\n${e.stderr ?? ''}`);
        await exec('bash', [resolve(ROOT, 'scripts/stack.sh'), 'down'], { env }).catch(() => undefined);
      }
    }
    const vars = parseStackEnv(stdout);
    if (vars['STACK_KAFKA_NODES'] !== '3')
      throw new Error(`${dir} holds a stack with ${vars['STACK_KAFKA_NODES'] ?? 1} Kafka node(s), not 3`);
    const stack: TestStack = {
      ...serversOf(vars),
      source: 'local',
      stop: async () => undefined,
    };
    const admin = testKafka(stack).admin();
    await admin.connect();
    try {
      // `up` returns once each node answers; the cluster may list a node a moment later.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const { brokers } = await admin.describeCluster();
        const nodes = brokers
          .map((b) => ({ id: b.nodeId, address: `${b.host}:${b.port}` }))
          .sort((a, b) => a.id - b.id);
        if (nodes.length === 3) return new ClusterStack(dir, stack, nodes, keep);
        if (Date.now() > deadline) {
          if (!keep) await exec('bash', [resolve(ROOT, 'scripts/stack.sh'), 'down'], { env }).catch(() => undefined);
          throw new Error(`expected 3 brokers in ${dir}, the cluster lists ${nodes.length} after 60 s`);
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      await admin.disconnect();
    }
  }

  private static env(dir: string): NodeJS.ProcessEnv {
    // (its Redis stays one plain server: these scenarios are about Kafka)
    return {
      ...process.env,
      REPLYGATE_STACK_DIR: resolve(dir),
      STACK_KAFKA_BROKERS: '3',
      STACK_REDIS_SHAPE: 'standalone',
    };
  }

  private run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string }> {
    return exec('bash', [resolve(ROOT, 'scripts/stack.sh'), ...args], {
      env: { ...ClusterStack.env(this.dir), ...env },
      maxBuffer: 16 << 20,
    });
  }

  /** Each node's pid, undefined when it is not running (`scripts/stack.sh status`). */
  async pids(): Promise<Map<number, number | undefined>> {
    const { stdout } = await this.run(['status']);
    const pids = new Map<number, number | undefined>();
    for (const m of stdout.matchAll(/^kafka-(\d+): (running \(pid (\d+)\)|stopped)/gm))
      pids.set(Number(m[1]), m[3] === undefined ? undefined : Number(m[3]));
    return pids;
  }

  /**
   * Preferred leader election for every partition (`scripts/stack.sh elect-leaders`), as an
   * upgrade runbook runs once a restarted broker is back: leaderships return to the first replica
   * of each partition instead of piling up on the brokers that stayed. How many partitions moved.
   */
  async electPreferredLeaders(): Promise<number> {
    const { stdout } = await this.run(['elect-leaders']);
    return Number(/elected (\d+) partitions/.exec(stdout)?.[1] ?? Number.NaN);
  }

  /** SIGKILL node `id` (a crash). */
  async kill(id: number): Promise<void> {
    await this.run(['kill', `kafka-${id}`]);
  }

  /** SIGTERM node `id` and wait for it to exit (controlled shutdown). */
  async stop(id: number): Promise<StopOutcome> {
    const t = Date.now();
    const { stderr } = await this.run(['stop', `kafka-${id}`]);
    return { ms: Date.now() - t, sigkilled: /sending SIGKILL/.test(stderr) };
  }

  /**
   * Start node `id` and wait until it serves (the script's readiness check). With `nice`, its JVM
   * starts at that nice level (`STACK_KAFKA_NICE`): see {@link ClusterStack.renice}; `jvmOpts` are
   * extra JVM flags (`STACK_KAFKA_JVM_OPTS`).
   */
  async start(id: number, options: { nice?: number; jvmOpts?: string } = {}): Promise<number> {
    const t = Date.now();
    const env: NodeJS.ProcessEnv = {};
    if (options.nice !== undefined) env['STACK_KAFKA_NICE'] = String(options.nice);
    if (options.jvmOpts !== undefined) env['STACK_KAFKA_JVM_OPTS'] = options.jvmOpts;
    await this.run(['start', `kafka-${id}`], env);
    return Date.now() - t;
  }

  /**
   * Set every thread of the node JVM `pid` to nice `level` (Linux nice is per thread: a JVM started
   * niced has all its threads niced). Returns how many threads were changed.
   */
  renice(pid: number, level: number): number {
    let n = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        setPriority(Number(tid), level);
        n++;
      } catch {
        // a thread that ended meanwhile
      }
    }
    return n;
  }

  /**
   * The node leading the KRaft controller quorum (the active controller), from the nodes' logs
   * (the latest `Completed transition to Leader` / `FollowerState(... leader=N` line); undefined
   * when the logs do not say. Killing it costs an election before any broker can be fenced.
   */
  activeController(): number | undefined {
    let latest: { at: string; leader: number } | undefined;
    for (const n of this.nodes) {
      const file = resolve(this.dir, 'logs', `kafka-${n.id}.log`);
      let text: string;
      try {
        const size = statSync(file).size;
        const fd = openSync(file, 'r');
        const len = Math.min(size, 4 << 20);
        const buf = Buffer.alloc(len);
        readSync(fd, buf, 0, len, size - len);
        closeSync(fd);
        text = buf.toString('utf8');
      } catch {
        continue;
      }
      for (const m of text.matchAll(
        /^\[([0-9-]+ [0-9:,]+)\] INFO \[RaftManager id=(\d+)\] Completed transition to (?:Leader\(|FollowerState\(.*?leader=(\d+))/gm,
      )) {
        const leader = m[3] !== undefined ? Number(m[3]) : Number(m[2]);
        if (latest === undefined || m[1]! > latest.at) latest = { at: m[1]!, leader };
      }
    }
    return latest?.leader;
  }

  /**
   * Create topics (replication factor 3 by the stack's default), retried: right after start-up or a
   * restart a node may not know the new topic yet and answers UNKNOWN_TOPIC_OR_PARTITION.
   */
  async createTopics(topics: string[], partitions: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await createTopics(this.stack, topics, partitions);
        return;
      } catch (err) {
        if (attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
  }

  /** Stop the stack, unless it was asked to be kept. */
  async down(): Promise<void> {
    if (!this.keep) await this.run(['down']).catch(() => undefined);
  }
}
