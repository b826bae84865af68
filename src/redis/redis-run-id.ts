import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger';
import { isCluster, type RedisClient } from './redis-connections';
import { masterConnections } from './redis-masters';

/** The server's run id (changes on every Redis restart), or undefined when INFO is not allowed. */
export async function redisRunId(redis: RedisClient): Promise<string | undefined> {
  try {
    const info = await redis.info('server');
    return /run_id:(\w+)/.exec(info)?.[1];
  } catch {
    return undefined;
  }
}

/** The run id of every master (`host:port` → run id; one server: `''` → run id); unreadable ones left out. */
export async function masterRunIds(client: RedisClient): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await Promise.all(
    [...masterConnections(client)].map(async ([address, node]) => {
      const id = await redisRunId(node);
      if (id !== undefined) out.set(address, id);
    }),
  );
  return out;
}

/** What a {@link RedisRestartWatch} reports: the masters whose data may be gone. */
export interface RedisRestart {
  /** `host:port` (empty for a single server) → the run id before (undefined: not a master before) and now. */
  masters: { address: string; before: string | undefined; now: string }[];
}

/**
 * Restart detection per master. A master serving with a run id that was not a master's run id
 * before has restarted (without persistence: empty) or is a replica promoted by a failover (which
 * lacks what the old master had not replicated): replies it held may be lost, and `onRestart`
 * makes the relays write them again. One server or Sentinel: checked whenever the command
 * connection becomes ready (a Sentinel failover reconnects it to the new primary). Cluster:
 * whenever the slot map's masters change and whenever a master's connection becomes ready again.
 */
export class RedisRestartWatch {
  private known = new Map<string, string>();
  private checking = false;
  private recheck = false;
  private readonly hooked = new WeakSet<Redis>();
  private readonly check = (): void => void this.run();

  constructor(
    private readonly client: RedisClient,
    private readonly onRestart: (restart: RedisRestart) => void,
    private readonly log: Logger,
  ) {}

  /** Record the run ids now and start watching. */
  async start(): Promise<void> {
    this.known = await masterRunIds(this.client);
    const client = this.client;
    if (!isCluster(client)) {
      client.on('ready', this.check);
      return;
    }
    client.on('refresh', () => {
      this.hookNodes();
      const masters = [...masterConnections(client).keys()];
      if (masters.length !== this.known.size || masters.some((m) => !this.known.has(m))) this.check();
    });
    this.hookNodes();
  }

  private hookNodes(): void {
    if (!isCluster(this.client)) return;
    for (const node of this.client.nodes('all')) {
      if (this.hooked.has(node)) continue;
      this.hooked.add(node);
      node.on('ready', this.check);
    }
  }

  private async run(): Promise<void> {
    if (this.checking) {
      this.recheck = true;
      return;
    }
    this.checking = true;
    try {
      do {
        this.recheck = false;
        const now = await masterRunIds(this.client);
        const before = new Set(this.known.values());
        const changed = [...now]
          .filter(([, id]) => !before.has(id))
          .map(([address, id]) => ({ address, before: this.known.get(address), now: id }));
        this.known = now;
        if (changed.length > 0) {
          this.log.warn(
            { masters: changed },
            'Redis master restarted or failed over (new run_id); replies it held may be lost',
          );
          this.onRestart({ masters: changed });
        }
      } while (this.recheck);
    } catch (err) {
      this.log.debug({ err }, 'could not read Redis run ids');
    } finally {
      this.checking = false;
    }
  }
}
