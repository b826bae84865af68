import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Queue } from 'bullmq';
import { AssignerProtocol, type Kafka, type Producer } from 'kafkajs';
import { CallbackSecret } from '../../src/config/callback-secret';
import { relayGroupName } from '../../src/config/relay-groups';
import type { ReplyWrite } from '../../src/exchange/reply-store';
import { createStoredReplyDecoder } from '../../src/exchange/stored-reply-decoder';
import { GatewayMetrics } from '../../src/observability/gateway-metrics';
import { silentLogger } from '../../src/observability/logger';
import { newCorrelationId } from '../../src/protocol/correlation-id';
import { RG_HEADERS } from '../../src/protocol/kafka-headers';
import { encodeEnvelope } from '../../src/protocol/reply-envelope';
import { DEFAULT_REPLY_HEADER_LIMITS } from '../../src/protocol/reply-headers';
import { RedisReplyStore } from '../../src/redis/redis-reply-store';
import { ReplyRelay } from '../../src/relay/reply-relay';
import { relayAssigners } from '../../src/relay/striped-assigner';
import { CallbackHookStore, type CallbackHookStatus } from '../../src/webhooks/callback-hook-store';
import { WebhookService } from '../../src/webhooks/webhook-service';
import { bullPrefix, WEBHOOK_QUEUE } from '../../src/webhooks/webhook-queue-names';
import type { RedisClient } from '../../src/redis/redis-connections';
import { createTopics, testKafka } from '../support/gateway-fixture';
import { countExisting, deleteEach, psubscribeEveryNode, testConnections, testRedis } from '../support/test-redis';
import { useTestStack, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';
import { waitFor } from '../support/wait-for';

/**
 * Redundant relay groups (issue 16), in one process against the real broker and Redis: each reply
 * is read by one relay of every group, and is still stored, counted, rewound and handed to
 * webhooks once. The SIGKILL of a relay under load is in relay-redundancy.test.ts.
 */
describe('integration: redundant relay groups count and act once', function () {
  this.timeout(120_000);

  let stack: TestStack;
  let kafka: Kafka;
  let producer: Producer;
  let redis: RedisClient;
  let unsubscribe: (() => void) | undefined;
  const relays: ReplyRelay[] = [];

  before(async function () {
    stack = await useTestStack();
    kafka = testKafka(stack);
    producer = kafka.producer();
    await producer.connect();
    redis = await testRedis(stack);
  });

  after(async function () {
    await Promise.all(relays.map((r) => r.stop().catch(() => undefined)));
    await producer?.disconnect();
    unsubscribe?.();
    redis?.disconnect();
  });

  interface Deployment {
    topic: string;
    base: string;
    prefix: string;
  }

  async function deployment(tag: string, partitions = 2): Promise<Deployment> {
    const topic = unique(`groups.${tag}`);
    await createTopics(stack, [topic], partitions);
    return { topic, base: unique(`groups-${tag}`), prefix: `${unique(tag)}:` };
  }

  /** A relay of group `index` of `groups`, with its own metrics (one process each, as deployed). */
  async function startRelay(
    d: Deployment,
    index: number,
    groups: number,
    options: { siblings?: boolean; assigners?: boolean } = {},
  ): Promise<{ relay: ReplyRelay; metrics: GatewayMetrics; groupId: string }> {
    const metrics = new GatewayMetrics();
    const groupId = relayGroupName(d.base, index);
    const siblingGroupIds =
      options.siblings === false
        ? []
        : Array.from({ length: groups }, (_, i) => relayGroupName(d.base, i)).filter((g) => g !== groupId);
    const relay = new ReplyRelay(
      kafka,
      new RedisReplyStore(redis, d.prefix, 60_000),
      {
        replyTopic: d.topic,
        groupId,
        maxReplyBytes: 1024 * 1024,
        commitIntervalMs: 50,
        siblingGroupIds,
        // As the relay role sets it with REPLYGATE_RELAY_GROUPS > 1.
        partitionAssigners: options.assigners === false ? undefined : relayAssigners(index),
      },
      metrics,
      silentLogger(),
    );
    relays.push(relay);
    await relay.start();
    return { relay, metrics, groupId };
  }

  async function sendReplies(topic: string, count: number): Promise<string[]> {
    const ids = Array.from({ length: count }, () => newCorrelationId('groups'));
    await producer.send({
      topic,
      messages: ids.map((id, i) => ({
        key: String(i),
        value: `{"n":${i}}`,
        headers: { [RG_HEADERS.correlationId]: id },
      })),
    });
    return ids;
  }

  async function committed(groupId: string, topic: string): Promise<number> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return (t?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
    } finally {
      await admin.disconnect();
    }
  }

  async function writes(metrics: GatewayMetrics, result: string): Promise<number> {
    return (await metrics.relayWrites.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
  }

  /** Counts keyspace `set` events per key under `prefix` (what wakes a waiting request). */
  async function countSets(prefix: string): Promise<Map<string, number>> {
    unsubscribe?.();
    const sets = new Map<string, number>();
    // db 0 on a cluster (it has no other); on every master, where the keys live
    const db = stack.redisShape === 'cluster' ? 0 : Number(new URL(stack.redisUrl).pathname.slice(1) || '0');
    const pattern = `__keyspace@${db}__:${prefix}reply:*`;
    unsubscribe = await psubscribeEveryNode(redis, pattern, (channel, event) => {
      if (event !== 'set') return;
      const key = channel.slice(channel.indexOf(':') + 1);
      sets.set(key, (sets.get(key) ?? 0) + 1);
    });
    return sets;
  }

  it('stores each reply once: `stored` summed over both groups equals the replies, the other group counts `duplicate`', async function () {
    const d = await deployment('count');
    const sets = await countSets(d.prefix);
    // Both groups at the head of the topic, each writing every reply: the second write is refused
    // by `SET NX`. (Without their sibling-offset skip, which otherwise may skip part of the later
    // group's share before it writes: the next test covers that path.)
    const a = await startRelay(d, 0, 2, { siblings: false });
    const b = await startRelay(d, 1, 2, { siblings: false });
    const N = 300;
    const ids = await sendReplies(d.topic, N);
    await waitFor(async () => (await committed(a.groupId, d.topic)) === N, 30_000, 'group 0 committed every reply');
    await waitFor(async () => (await committed(b.groupId, d.topic)) === N, 30_000, 'group 1 committed every reply');

    const [storedA, storedB, dupA, dupB] = await Promise.all([
      writes(a.metrics, 'stored'),
      writes(b.metrics, 'stored'),
      writes(a.metrics, 'duplicate'),
      writes(b.metrics, 'duplicate'),
    ]);
    // Both groups read everything (the second group is no dormant standby)...
    expect(storedA + dupA, 'replies group 0 handled').to.equal(N);
    expect(storedB + dupB, 'replies group 1 handled').to.equal(N);
    // ...and each reply is stored, counted and notified once.
    expect(storedA + storedB, `stored (group 0: ${storedA}, group 1: ${storedB})`).to.equal(N);
    expect(dupA + dupB, 'duplicates').to.equal(N);
    // What the second group costs Kafka: each relay read every reply (key, value and headers).
    const sent = ids.reduce(
      (sum, id, i) => sum + String(i).length + `{"n":${i}}`.length + RG_HEADERS.correlationId.length + id.length,
      0,
    );
    for (const r of [a, b]) {
      expect((await r.metrics.relayReadBytes.get()).values[0]?.value, 'reply bytes read').to.equal(sent);
      expect((await r.metrics.relayFetches.get()).values[0]?.value, 'fetches').to.be.greaterThan(0);
    }
    expect(
      await countExisting(
        redis,
        ids.map((id) => `${d.prefix}reply:${id}`),
      ),
    ).to.equal(N);
    await waitFor(() => sets.size === N, 5_000, 'a set notification for every reply');
    expect(
      [...sets.values()].filter((n) => n !== 1),
      'keys notified more than once',
    ).to.deep.equal([]);
  });

  it('a group far behind skips what the other group committed, even replies expired meanwhile', async function () {
    const d = await deployment('behind');
    const a = await startRelay(d, 0, 2);
    const old = await sendReplies(d.topic, 200);
    await waitFor(
      async () => (await committed(a.groupId, d.topic)) === 200,
      30_000,
      'group 0 committed the old replies',
    );
    // Expired by their TTL while group 1 had no relay (or group 1 did not exist yet).
    await deleteEach(
      redis,
      old.map((id) => `${d.prefix}reply:${id}`),
    );
    const sets = await countSets(d.prefix);

    const b = await startRelay(d, 1, 2);
    const fresh = await sendReplies(d.topic, 50);
    await waitFor(async () => (await committed(b.groupId, d.topic)) === 250, 30_000, 'group 1 caught up');
    await waitFor(
      async () => (await committed(a.groupId, d.topic)) === 250,
      30_000,
      'group 0 committed the fresh ones',
    );

    expect(
      await countExisting(
        redis,
        old.map((id) => `${d.prefix}reply:${id}`),
      ),
      'expired replies stored again',
    ).to.equal(0);
    expect(
      await countExisting(
        redis,
        fresh.map((id) => `${d.prefix}reply:${id}`),
      ),
    ).to.equal(50);
    const [storedA, storedB, dupB] = await Promise.all([
      writes(a.metrics, 'stored'),
      writes(b.metrics, 'stored'),
      writes(b.metrics, 'duplicate'),
    ]);
    expect(storedA + storedB, 'stored over both groups').to.equal(250);
    expect(storedB + dupB, 'replies group 1 handled').to.equal(250);
    expect(
      [...sets.keys()].filter((k) => old.some((id) => k.endsWith(id))),
      'old replies notified',
    ).to.deep.equal([]);
  });

  it('after Redis lost its data both groups rewind, and each reply is written again once and counted once', async function () {
    const d = await deployment('rewind');
    const a = await startRelay(d, 0, 2);
    const b = await startRelay(d, 1, 2);
    const N = 200;
    const ids = await sendReplies(d.topic, N);
    const keys = ids.map((id) => `${d.prefix}reply:${id}`);
    await waitFor(async () => (await committed(a.groupId, d.topic)) === N, 30_000, 'group 0 committed');
    await waitFor(async () => (await committed(b.groupId, d.topic)) === N, 30_000, 'group 1 committed');

    await deleteEach(redis, keys); // this test's share of a Redis restart without persistence
    expect(await countExisting(redis, keys), 'the replies are gone').to.equal(0);
    const sets = await countSets(d.prefix);
    await Promise.all([a.relay.rewind(kafka, 60_000), b.relay.rewind(kafka, 60_000)]);

    expect(await countExisting(redis, keys), 'replies restored').to.equal(N);
    const [rewoundA, rewoundB] = await Promise.all([writes(a.metrics, 'rewound'), writes(b.metrics, 'rewound')]);
    expect(rewoundA + rewoundB, `rewound (group 0: ${rewoundA}, group 1: ${rewoundB})`).to.equal(N);
    await waitFor(() => sets.size === N, 5_000, 'a set notification for every restored reply');
    expect(
      [...sets.values()].filter((n) => n !== 1),
      'keys written more than once',
    ).to.deep.equal([]);
  });

  it('splits the partitions differently in the two groups: two relays dying at once, one in each, leave 1 of 4 unread', async function () {
    const d = await deployment('split', 4);
    const relaysOf = await Promise.all([0, 0, 1, 1].map((g) => startRelay(d, g, 2)));
    const admin = kafka.admin();
    await admin.connect();
    try {
      const owned = async (groupId: string): Promise<number[][]> => {
        const { groups } = await admin.describeGroups([groupId]);
        return (groups[0]?.members ?? []).map(
          (m) => AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment[d.topic] ?? [],
        );
      };
      const settled = async (groupId: string) => {
        const split = await owned(groupId);
        return split.length === 2 && split.every((x) => x.length === 2) ? split : undefined;
      };
      const [g0, g1] = await Promise.all(
        [relaysOf[0]!.groupId, relaysOf[2]!.groupId].map((g) => waitFor(() => settled(g), 30_000, `${g} split 2 + 2`)),
      );
      const shared = g0!.flatMap((a) => g1!.map((b) => a.filter((p) => b.includes(p)).length));
      expect(shared, `group 0 ${JSON.stringify(g0)}, group 1 ${JSON.stringify(g1)}`).to.deep.equal([1, 1, 1, 1]);
    } finally {
      await admin.disconnect();
    }
  });

  describe('webhook hand-off from both groups', function () {
    let receiver: Server;
    let receiverUrl = '';
    const posts = new Map<string, number>();
    const services: WebhookService[] = [];
    let queue: Queue | undefined;

    before(async function () {
      receiver = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          const id = String(req.headers['replygate-correlation-id']);
          posts.set(id, (posts.get(id) ?? 0) + 1);
          res.statusCode = 204;
          res.end();
        });
      });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
      receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    });

    after(async function () {
      await Promise.all(services.map((s) => s.stop()));
      await queue?.close();
      await new Promise((r) => receiver?.close(r));
    });

    function service(prefix: string, hooks: CallbackHookStore, instanceId: string): WebhookService {
      const s = new WebhookService({
        redis: testConnections(stack),
        keyPrefix: prefix,
        instanceId,
        hooks,
        secretOf: () => new CallbackSecret('relay-groups-test-secret-0123456789'),
        concurrency: 4,
        timeoutMs: 5_000,
        retentionSec: 60,
        evictionCheck: 'warn',
        replyDecoder: createStoredReplyDecoder({
          limits: DEFAULT_REPLY_HEADER_LIMITS,
          metrics: new GatewayMetrics(),
          log: silentLogger(),
        }),
        log: silentLogger(),
      });
      services.push(s);
      return s;
    }

    it('POSTs a callback once when the second group hands the reply over after the first delivery finished', async function () {
      const prefix = `${unique('hooks')}:`;
      const hooks = new CallbackHookStore(redis, prefix, 60_000);
      const id = newCorrelationId('groups');
      await hooks.register(id, {
        url: receiverUrl,
        route: 'hooked',
        replyContentType: 'application/json',
        attempts: 3,
        backoffMs: 100,
      });
      const write: ReplyWrite = {
        correlationId: id,
        value: encodeEnvelope({
          meta: { id, receivedAt: Date.now(), topic: 'replies', partition: 0, offset: '0' },
          body: Buffer.from('{"ok":true}'),
        }),
      };
      // Group 1's relay reads the hook (still pending) while group 0's delivery is under way, and
      // adds its job only once that delivery is done and its job removed: the real race, widened.
      let lateRead: CallbackHookStatus[] | undefined;
      const slowHooks = Object.create(hooks) as CallbackHookStore;
      slowHooks.readMany = async (ids) => {
        const snapshot = await hooks.readMany(ids);
        lateRead = snapshot.filter((h): h is CallbackHookStatus => h !== undefined);
        await waitFor(async () => (await hooks.read(id))?.state === 'delivered', 15_000, 'first delivery recorded');
        await waitFor(async () => (await queue!.getJob(id)) === undefined, 15_000, 'first job removed');
        return snapshot;
      };
      const first = service(prefix, hooks, 'group-0');
      const second = service(prefix, slowHooks, 'group-1');
      await Promise.all([first.start(), second.start()]);
      queue = new Queue(WEBHOOK_QUEUE, {
        connection: testConnections(stack).durable('relay-groups-test-queue'),
        prefix: bullPrefix(prefix, stack.redisShape === 'cluster'),
      });

      const handOffs = Promise.all([first.afterWrite([write]), second.afterWrite([write])]);
      await handOffs;
      expect(lateRead?.[0]?.state, 'group 1 read the hook while it was pending').to.equal('pending');
      // The second job ran (or never existed) and the queue is empty again.
      await waitFor(
        async () => {
          const counts = await queue!.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
          return Object.values(counts).every((n) => n === 0);
        },
        15_000,
        'no job left',
      );
      expect(posts.get(id), 'POSTs of the callback').to.equal(1);
      expect((await hooks.read(id))?.state).to.equal('delivered');
    });
  });
});
