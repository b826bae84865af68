import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { silentLogger } from '../../../src/observability/logger';
import { KeyspaceNotificationWatch } from '../../../src/redis/keyspace-notification-watch';
import { notificationsCoverSet } from '../../../src/redis/redis-notifications-check';

/**
 * A Redis stand-in: SET of the canary "publishes" its keyspace event to the watch when the flags
 * cover SET, as a real Redis would on the replica's own subscription.
 */
class FakeRedis {
  status = 'ready';
  flags = 'K$';
  configAllowed = true;
  configSets: string[] = [];
  watch: KeyspaceNotificationWatch | undefined;

  async config(op: 'GET' | 'SET', _name: string, value?: string): Promise<unknown> {
    if (!this.configAllowed) throw new Error("ERR unknown command 'CONFIG'");
    if (op === 'SET') {
      this.flags = value ?? '';
      this.configSets.push(this.flags);
      return 'OK';
    }
    return ['notify-keyspace-events', this.flags];
  }

  async ping(): Promise<string> {
    return 'PONG';
  }

  async set(key: string): Promise<string> {
    if (notificationsCoverSet(this.flags)) {
      const id = key.slice(key.indexOf('reply:') + 'reply:'.length);
      setImmediate(() => this.watch?.claim(id));
    }
    return 'OK';
  }
}

function setup(opts: { checkConfig?: boolean; configure?: boolean; live?: () => boolean } = {}) {
  const redis = new FakeRedis();
  const changes: boolean[] = [];
  const watch = new KeyspaceNotificationWatch({
    redis: redis as unknown as Redis,
    keyPrefix: 'rg:',
    instanceId: 'rg-unit',
    intervalMs: 1000,
    checkConfig: opts.checkConfig ?? true,
    configure: opts.configure ?? false,
    subscriptionLive: opts.live ?? (() => true),
    onChange: (flowing) => changes.push(flowing),
    log: silentLogger(),
  });
  redis.watch = watch;
  /** One round, then let the canary's notification (if any) arrive. */
  const round = async (): Promise<void> => {
    await watch.check();
    await new Promise((r) => setImmediate(r));
  };
  return { redis, watch, changes, round };
}

describe('KeyspaceNotificationWatch', () => {
  it('stays flowing while every canary is notified', async () => {
    const { watch, changes, round } = setup();
    for (let i = 0; i < 3; i++) await round();
    expect(watch.flowing).to.equal(true);
    expect(changes).to.deep.equal([]);
  });

  it('reports the loss once when the setting loses K$, and recovery once it is back', async () => {
    const { redis, watch, changes, round } = setup();
    await round();
    redis.flags = '';
    await round();
    expect(watch.flowing).to.equal(false);
    await round();
    await round();
    expect(changes, 'one change per state change').to.deep.equal([false]);
    redis.flags = 'K$';
    await round();
    expect(watch.flowing).to.equal(true);
    expect(changes).to.deep.equal([false, true]);
  });

  it('notices lost notifications from the canary alone where CONFIG is forbidden', async () => {
    const { redis, watch, changes, round } = setup();
    redis.configAllowed = false;
    await round();
    expect(watch.flowing).to.equal(true);
    redis.flags = ''; // changed behind the gateway's back (managed Redis parameter group)
    await round(); // canary written, never notified
    expect(watch.flowing).to.equal(true);
    await round(); // ... judged missing
    expect(watch.flowing).to.equal(false);
    redis.flags = 'K$';
    await round();
    expect(watch.flowing).to.equal(true);
    expect(changes).to.deep.equal([false, true]);
  });

  it('puts the flags back with configure, keeping what was there', async () => {
    const { redis, watch, changes, round } = setup({ configure: true });
    redis.flags = 'Ex';
    await round();
    expect(redis.configSets).to.deep.equal(['ExK$']);
    expect(watch.flowing).to.equal(true);
    expect(changes).to.deep.equal([false, true]);
  });

  it('does not judge while the subscription itself is down (that has its own check)', async () => {
    let live = true;
    const { redis, watch, changes, round } = setup({ checkConfig: false, live: () => live });
    await round();
    live = false;
    redis.flags = '';
    await round();
    await round();
    expect(watch.flowing).to.equal(true);
    expect(changes).to.deep.equal([]);
  });

  it('does not take the canary for a reply: claim() is true only for its id', () => {
    const { watch } = setup();
    expect(watch.claim(watch.canaryId)).to.equal(true);
    expect(watch.claim('rg-unit.AAAAAAAAAAAAAAAAAAAAAA')).to.equal(false);
  });
});
