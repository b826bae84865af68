import { resolve } from 'node:path';
import { redisChildEnv } from '../../test/support/test-redis';
import { type BenchProcess, startNode, startProcess } from './child-process';
import { NEST_DIR } from './peers';

const BUILD = resolve(__dirname, '../.build');
export const CLI = resolve(BUILD, 'src/cli/main.js');
/** The sample runner, from `npm run build` (it imports the package by name, so it runs from dist/). */
export const SAMPLE = resolve(__dirname, '../../dist/examples/samples/run-sample.js');
export const VARIANT = resolve(BUILD, 'bench/variants/variant-gateway.js');
export const FLOOR = resolve(BUILD, 'bench/variants/floor-client.js');

/** Names of the compared set-ups. */
export type VariantName =
  | 'floor'
  | 'floor-nobatch'
  | 'replygate-all'
  | 'replygate-all-nobatch'
  | 'replygate-all-nolw'
  | 'replygate-all-linger'
  | 'replygate-all-commit0'
  | 'replygate-split'
  | 'replygate-split-cluster'
  | 'replygate-relays-1group'
  | 'replygate-relays-2groups'
  | 'replygate-3all'
  | 'replygate-3http-2relay'
  | 'spring'
  | 'nest'
  | 'polling'
  | 'affinity'
  | 'replygate-1http'
  | 'replygate-3http'
  | 'replygate-6http'
  | 'replygate-1http-cluster'
  | 'replygate-3http-cluster'
  | 'replygate-6http-cluster';

/** The wake's cost model (issue 14): N http replicas and one relay, on a standalone Redis or a cluster. */
const SCALED_HTTP = /^replygate-(\d+)http(-cluster)?$/;

export const VARIANT_LABELS: Record<VariantName, string> = {
  floor: 'floor (Kafka legs only)',
  'floor-nobatch': 'floor, producer batching off',
  'replygate-all': 'replygate, 1 × all',
  'replygate-all-nobatch': 'replygate, 1 × all, producer batching off (before)',
  'replygate-all-nolw': 'replygate, 1 × all, no local wake (before)',
  'replygate-all-linger': 'replygate, 1 × all, producer batching off + linger 1 ms',
  'replygate-all-commit0': 'replygate, 1 × all, relay commit after every batch (before)',
  'replygate-split': 'replygate, 2 × http + 1 × relay',
  'replygate-split-cluster': 'replygate, 2 × http + 1 × relay, Redis Cluster (3 masters + 3 replicas)',
  'replygate-relays-1group': 'replygate, 2 × http + 2 × relay, 1 relay group',
  'replygate-relays-2groups': 'replygate, 2 × http + 2 × relay, 2 relay groups (redundant)',
  'replygate-3all': 'replygate, 3 × all',
  'replygate-3http-2relay': 'replygate, 3 × http + 2 × relay (2 relay groups)',
  spring: 'Spring Boot + ReplyingKafkaTemplate, 3 instances',
  nest: 'NestJS + ClientKafka, 3 instances',
  polling: 'polling 10 ms, 1 × all',
  affinity: 'partition affinity, 1 replica',
  'replygate-1http': 'replygate, 1 × http + 1 × relay',
  'replygate-3http': 'replygate, 3 × http + 1 × relay',
  'replygate-6http': 'replygate, 6 × http + 1 × relay',
  'replygate-1http-cluster': 'replygate, 1 × http + 1 × relay, Redis Cluster (3 masters + 3 replicas)',
  'replygate-3http-cluster': 'replygate, 3 × http + 1 × relay, Redis Cluster (3 masters + 3 replicas)',
  'replygate-6http-cluster': 'replygate, 6 × http + 1 × relay, Redis Cluster (3 masters + 3 replicas)',
};

/** What a running variant offers the harness. */
export interface RunningVariant {
  /** The variant spec it was started for (`name` or `name@K=V…`). */
  name: string;
  /** HTTP ports to spread load over (none for the floor). */
  ports: number[];
  /** Processes whose CPU counts as "gateway CPU". */
  gatewayPids: number[];
  /** The relay-role processes among them (HTTP port for /metrics, pid for CPU), when separate. */
  relays?: { port: number; pid: number }[];
  /** The replica the parked-request test uses (port, pid). */
  park?: { port: number; pid: number };
  /**
   * Requests waiting for a reply on a replica (default: its `replygate_pending_requests` gauge;
   * the peers answer `GET /pending`).
   */
  pendingOf?: (port: number) => Promise<number>;
  floor?: BenchProcess;
  /** The variant runs on the JVM (a longer warm-up). */
  jvm?: boolean;
  processes: BenchProcess[];
}

/** Shared settings every variant is started with. */
export interface VariantContext {
  kafkaBrokers: string[];
  /** The Redis settings of the gateways (`REDIS_URL`; `REDIS_CLUSTER_NODES` for a `-cluster` variant). */
  redisEnv: Record<string, string>;
  runId: string;
  routesFile: string;
  echoTopic: string;
  /** The topic nobody answers (`POST /park`). */
  parkTopic: string;
  /** Create topics a variant needs before it starts (the peers' reply topics). */
  createTopics: (topics: { topic: string; partitions: number }[]) => Promise<void>;
  /** The gateway CLI to run (another commit's for a `@BENCH_REF=` variant); default {@link CLI}. */
  cli?: string;
  /** Built peers: the Spring jar and the NestJS entry point (see harness/peers.ts). */
  peers: { springJar?: string; nestMain?: string };
  nodeFlags: (name: string) => string[];
  /** Extra environment for gateway processes (optimisation switches). */
  extraEnv: Record<string, string>;
  /**
   * Appended to topic, group, key-prefix and instance names, so that two set-ups of the same
   * variant with different settings (`name@K=V` on the command line) share nothing.
   */
  suffix?: string;
}

/** A variant as named on the command line: `replygate-all` or `replygate-all@K=V+K2=V2`. */
export interface VariantSpec {
  /** The whole spec; the name results are reported under. */
  id: string;
  base: VariantName;
  env: Record<string, string>;
}

export function parseVariantSpec(spec: string): VariantSpec {
  const [base, settings] = spec.split('@') as [string, string | undefined];
  if (!(base in VARIANT_LABELS))
    throw new Error(`unknown variant "${base}" (${Object.keys(VARIANT_LABELS).join(', ')})`);
  const env: Record<string, string> = {};
  for (const kv of (settings ?? '').split('+').filter(Boolean)) {
    const [k, ...v] = kv.split('=');
    env[k as string] = v.join('=');
  }
  return { id: spec, base: base as VariantName, env };
}

/** The label of a spec: the variant's, plus its settings. */
export function specLabel(spec: VariantSpec): string {
  const settings = Object.entries(spec.env).map(([k, v]) => `${k}=${v}`);
  return settings.length === 0 ? VARIANT_LABELS[spec.base] : `${VARIANT_LABELS[spec.base]} (${settings.join(', ')})`;
}

function gatewayEnv(ctx: VariantContext, name: string, instanceId: string): Record<string, string> {
  const variant = `${name}${ctx.suffix ?? ''}`;
  return {
    KAFKA_BROKERS: ctx.kafkaBrokers.join(','),
    ...redisChildEnv(ctx),
    PORT: '0',
    HOST: '127.0.0.1',
    REPLYGATE_ROUTES: ctx.routesFile,
    REPLYGATE_REPLY_TOPIC: `bench.${ctx.runId}.${variant}.replies${variant === 'affinity' ? `.${instanceId}` : ''}`,
    REPLYGATE_RELAY_GROUP: `bench-${ctx.runId}-${variant}-relay`,
    REPLYGATE_KEY_PREFIX: `bench:${ctx.runId}:${variant}:`,
    REPLYGATE_REDIS_CONFIGURE: 'true',
    REPLYGATE_REPLY_TOPIC_PARTITIONS: '4',
    // Above the parked-request test's count (at most 100,000, see run-bench.ts).
    REPLYGATE_MAX_PENDING: '150000',
    // The parked-request test holds thousands of connections idle before their requests are sent
    // (the defaults, 10 s / 30 s, would close them when opening and parking take longer).
    REPLYGATE_HEADERS_TIMEOUT_MS: '600000',
    REPLYGATE_REQUEST_TIMEOUT_MS: '600000',
    REPLYGATE_INSTANCE_ID: instanceId,
    REPLYGATE_SHUTDOWN_GRACE_MS: '1000',
    ...ctx.extraEnv,
  };
}

/** Reply-topic partitions of the three-instance variants and the peers (two per instance). */
const THREE_INSTANCE_REPLY_PARTITIONS = 6;

/** `GET /pending` of a peer instance. */
async function peerPending(port: number): Promise<number> {
  return Number(await (await fetch(`http://127.0.0.1:${port}/pending`)).text());
}

/** Environment of a peer instance (bench/peers/README.md). */
function peerEnv(ctx: VariantContext, group: string, instance: string, replyTopic?: string): Record<string, string> {
  return {
    KAFKA_BROKERS: ctx.kafkaBrokers.join(','),
    PORT: '0',
    PEER_REQUEST_TOPIC: ctx.echoTopic,
    PEER_PARK_TOPIC: ctx.parkTopic,
    PEER_GROUP: group,
    PEER_INSTANCE: instance,
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    ...(replyTopic !== undefined ? { PEER_REPLY_TOPIC: replyTopic } : {}),
  };
}

/** Start one variant's processes and wait until each says it is ready. */
export async function startVariant(ctx: VariantContext, name: VariantName): Promise<RunningVariant> {
  const sfx = ctx.suffix ?? '';
  const serve = (role: string, base: string, env: Record<string, string> = {}): Promise<BenchProcess> => {
    const id = `${base}${sfx}`;
    return startNode(
      id,
      [ctx.cli ?? CLI, 'serve', '--role', role],
      { ...gatewayEnv(ctx, name, id), ...env },
      ctx.nodeFlags(id),
    );
  };
  const variant = (kind: string, base: string): Promise<BenchProcess> => {
    const id = `${base}${sfx}`;
    return startNode(id, [VARIANT, kind], gatewayEnv(ctx, name, id), ctx.nodeFlags(id));
  };
  const web = (procs: BenchProcess[], https: BenchProcess[]): RunningVariant => {
    const first = https[0] as BenchProcess;
    return {
      name,
      ports: https.map((p) => Number(p.ready['port'])),
      gatewayPids: procs.map((p) => p.pid),
      park: { port: Number(first.ready['port']), pid: first.pid },
      processes: procs,
    };
  };
  const scaled = SCALED_HTTP.exec(name);
  if (scaled !== null) {
    // One relay, N http replicas: each replica's pattern is on every master (issue 14's cost model).
    const tag = `rg${scaled[1]}h${scaled[2] ? 'c' : ''}`;
    const relay = await serve('relay', `${tag}relay${ctx.runId}`);
    const https = await Promise.all(
      Array.from({ length: Number(scaled[1]) }, (_, i) => serve('http', `${tag}web${i + 1}${ctx.runId}`)),
    );
    return { ...web([...https, relay], https), relays: [{ port: Number(relay.ready['port']), pid: relay.pid }] };
  }
  switch (name) {
    case 'floor':
    case 'floor-nobatch': {
      const floor = await startNode(
        `${name}${sfx}`,
        [FLOOR],
        {
          KAFKA_BROKERS: ctx.kafkaBrokers.join(','),
          FLOOR_REQUEST_TOPIC: ctx.echoTopic,
          FLOOR_REPLY_TOPIC: `bench.${ctx.runId}.${name}${sfx}.replies`,
          FLOOR_PARTITIONS: '4',
          ...(name === 'floor-nobatch' ? { REPLYGATE_PRODUCER_BATCHING: 'off' } : {}),
          ...ctx.extraEnv,
        },
        ctx.nodeFlags(`${name}${sfx}`),
      );
      return { name, ports: [], gatewayPids: [floor.pid], floor, processes: [floor] };
    }
    case 'replygate-all': {
      const all = await serve('all', `rgall${ctx.runId}`);
      return web([all], [all]);
    }
    case 'replygate-all-linger': {
      const all = await serve('all', `rglinger${ctx.runId}`, {
        REPLYGATE_PRODUCER_BATCHING: 'off',
        REPLYGATE_PRODUCER_LINGER_MS: '1',
      });
      return web([all], [all]);
    }
    case 'replygate-all-nobatch': {
      const all = await serve('all', `rgnobatch${ctx.runId}`, { REPLYGATE_PRODUCER_BATCHING: 'off' });
      return web([all], [all]);
    }
    case 'replygate-all-commit0': {
      const all = await serve('all', `rgcommit0${ctx.runId}`, { REPLYGATE_RELAY_COMMIT_INTERVAL_MS: '0' });
      return web([all], [all]);
    }
    case 'replygate-split':
    case 'replygate-split-cluster': {
      // (the -cluster one: the same processes, given REDIS_CLUSTER_NODES by the harness)
      const c = name === 'replygate-split-cluster' ? 'c' : '';
      const relay = await serve('relay', `rg${c}relay${ctx.runId}`);
      const https = await Promise.all([
        serve('http', `rg${c}web1${ctx.runId}`),
        serve('http', `rg${c}web2${ctx.runId}`),
      ]);
      return { ...web([...https, relay], https), relays: [{ port: Number(relay.ready['port']), pid: relay.pid }] };
    }
    case 'replygate-relays-1group':
    case 'replygate-relays-2groups': {
      // The relay tier of issue 16: the same two relays in one group (each owns half the
      // partitions) or in two redundant groups (each reads every partition, SET NX keeps one).
      const groups = name === 'replygate-relays-2groups' ? '2' : '1';
      const tag = name === 'replygate-relays-2groups' ? 'g2' : 'g1';
      const relays = await Promise.all(
        [0, 1].map((i) =>
          serve('relay', `rg${tag}relay${i}${ctx.runId}`, {
            REPLYGATE_RELAY_GROUPS: groups,
            REPLYGATE_RELAY_GROUP_INDEX: groups === '2' ? String(i) : '0',
          }),
        ),
      );
      const https = await Promise.all(
        [1, 2].map((i) => serve('http', `rg${tag}web${i}${ctx.runId}`, { REPLYGATE_RELAY_GROUPS: groups })),
      );
      return {
        ...web([...https, ...relays], https),
        relays: relays.map((r) => ({ port: Number(r.ready['port']), pid: r.pid })),
      };
    }
    case 'replygate-3all': {
      const alls = await Promise.all(
        [1, 2, 3].map((i) =>
          serve('all', `rg3all${i}${ctx.runId}`, {
            REPLYGATE_REPLY_TOPIC_PARTITIONS: String(THREE_INSTANCE_REPLY_PARTITIONS),
          }),
        ),
      );
      return web(alls, alls);
    }
    case 'replygate-3http-2relay': {
      // The production topology: the HTTP tier and two redundant relay groups scaled apart.
      const env = (extra: Record<string, string>): Record<string, string> => ({
        REPLYGATE_REPLY_TOPIC_PARTITIONS: String(THREE_INSTANCE_REPLY_PARTITIONS),
        REPLYGATE_RELAY_GROUPS: '2',
        ...extra,
      });
      const relays = await Promise.all(
        [0, 1].map((i) => serve('relay', `rg32relay${i}${ctx.runId}`, env({ REPLYGATE_RELAY_GROUP_INDEX: String(i) }))),
      );
      const https = await Promise.all([1, 2, 3].map((i) => serve('http', `rg32web${i}${ctx.runId}`, env({}))));
      return {
        ...web([...https, ...relays], https),
        relays: relays.map((r) => ({ port: Number(r.ready['port']), pid: r.pid })),
      };
    }
    case 'spring': {
      // One reply topic shared by the three instances, a consumer group per instance (the
      // Spring for Apache Kafka reference's way to run several requesters).
      const jar = ctx.peers.springJar;
      if (jar === undefined) throw new Error('spring peer not built');
      const replyTopic = `bench.${ctx.runId}.spring${sfx}.replies`;
      await ctx.createTopics([{ topic: replyTopic, partitions: THREE_INSTANCE_REPLY_PARTITIONS }]);
      const procs = await Promise.all(
        [1, 2, 3].map((i) => {
          const id = `spring${i}${sfx}`;
          return startProcess(
            id,
            'java',
            ['-jar', jar],
            peerEnv(ctx, `bench-${ctx.runId}-${id}`, id, replyTopic),
            180_000,
          );
        }),
      );
      return { ...web(procs, procs), pendingOf: peerPending, jvm: true };
    }
    case 'nest': {
      // ClientKafka reads `<topic>.reply` in one consumer group shared by the three instances
      // (NestJS' default deployment): each instance names one of its partitions in
      // `kafka_replyPartition`, and the echo responder answers there.
      const main = ctx.peers.nestMain;
      if (main === undefined) throw new Error('nest peer not built');
      await ctx.createTopics([
        { topic: `${ctx.echoTopic}.reply`, partitions: THREE_INSTANCE_REPLY_PARTITIONS },
        { topic: `${ctx.parkTopic}.reply`, partitions: THREE_INSTANCE_REPLY_PARTITIONS },
      ]);
      const procs = await Promise.all(
        [1, 2, 3].map((i) => {
          const id = `nest${i}${sfx}`;
          return startProcess(
            id,
            process.execPath,
            [...ctx.nodeFlags(id), main],
            peerEnv(ctx, `bench-${ctx.runId}-nest${sfx}`, id),
            120_000,
            NEST_DIR,
          );
        }),
      );
      return { ...web(procs, procs), pendingOf: peerPending };
    }
    case 'replygate-all-nolw': {
      const p = await variant('no-local-wake', `rgnolw${ctx.runId}`);
      return web([p], [p]);
    }
    case 'polling': {
      const p = await variant('polling', `rgpoll${ctx.runId}`);
      return web([p], [p]);
    }
    case 'affinity': {
      const p = await variant('affinity', `rgaff${ctx.runId}`);
      return web([p], [p]);
    }
    default:
      // The replygate-Nhttp names are started above, before this switch.
      throw new Error(`unknown bench variant ${name}`);
  }
}
