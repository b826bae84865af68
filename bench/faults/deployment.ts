import { request } from 'node:http';
import type { ChildReplica } from '../../test/support/processes';
import type { TestStack } from '../../test/support/test-stack';
import { gatewayEnv, metricValue, startReplica, type GatewayNames } from '../../test/support/gateway-fixture';
import { relayGroupName } from '../../src/config/relay-groups';
import type { Target } from './load-generator';

/** The counters a scenario reports, summed over a deployment's processes. */
export interface DeploymentCounters {
  duplicatesAbsorbed: number;
  repliesStored: number;
  lateReplies: number;
  timeouts: number;
  publishErrors: number;
}

/** One replygate process of a deployment. */
export interface Member {
  name: string;
  role: 'http' | 'relay';
  replica: ChildReplica;
  /** For http members: what the load balancer routes to. */
  target?: Target;
  /** For relays: the relay group it joined (REPLYGATE_RELAY_GROUP_INDEX). */
  group?: number;
  /** Last /metrics values read (a SIGKILLed process keeps what was read before it died). */
  counters: DeploymentCounters;
  gone: boolean;
}

const ZERO: DeploymentCounters = {
  duplicatesAbsorbed: 0,
  repliesStored: 0,
  lateReplies: 0,
  timeouts: 0,
  publishErrors: 0,
};

/** GET a local URL; resolves with status and body, or status 0 when the process does not answer. */
export function httpGet(port: number, path: string, timeoutMs = 1000): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', () => resolve({ status: 0, body: '' }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

/**
 * `http` replicas and `relay` processes on one stack with private names, plus what a load balancer
 * and a Prometheus would do: poll `/readyz` to keep the rotation, scrape `/metrics`.
 */
export class Deployment {
  readonly members: Member[] = [];
  /** Per http member, the /readyz states seen (for scenarios that check readiness flips). */
  readonly readyLog: { at: number; name: string; status: number }[] = [];
  private seq = { http: 0, relay: 0 };
  private pollTimer: NodeJS.Timeout | undefined;
  private scrapeTimer: NodeJS.Timeout | undefined;
  private readonly env: Record<string, string>;
  /** REPLYGATE_RELAY_GROUPS of this deployment (from its env; 1 when unset). */
  readonly relayGroups: number;

  constructor(
    stack: TestStack,
    readonly names: GatewayNames,
    routesFile: string,
    extraEnv: Record<string, string> = {},
  ) {
    this.env = gatewayEnv(stack, names, { REPLYGATE_ROUTES: routesFile, ...extraEnv });
    this.relayGroups = Number(this.env['REPLYGATE_RELAY_GROUPS'] ?? '1');
  }

  /** The consumer group of relay group `index`. */
  groupId(index: number): string {
    return relayGroupName(this.names.relayGroup, index);
  }

  /** The load balancer's view: every http member ever started (dead ones stay, out of rotation). */
  targets = (): Target[] => this.members.flatMap((m) => (m.target === undefined ? [] : [m.target]));

  async start(https: number, relays: number): Promise<void> {
    await Promise.all([
      ...Array.from({ length: https }, () => this.add('http')),
      // With redundant relay groups, relays are dealt round the groups (as one deployment per group).
      ...Array.from({ length: relays }, (_, i) => this.add('relay', i % this.relayGroups)),
    ]);
    this.pollTimer = setInterval(() => void this.poll(), 200);
    this.scrapeTimer = setInterval(() => void this.scrape(), 1000);
  }

  /**
   * Start one more member. A relay joins relay group `group`, by default the group with the fewest
   * live relays (where an orchestrator would put the replacement of a relay that left).
   */
  async add(role: 'http' | 'relay', group?: number): Promise<Member> {
    const relayGroup = role === 'relay' ? (group ?? this.emptiestGroup()) : undefined;
    const replica = await startReplica(
      role,
      this.env,
      relayGroup === undefined ? {} : { REPLYGATE_RELAY_GROUP_INDEX: String(relayGroup) },
    );
    const name = `${role}-${++this.seq[role]}`;
    const member: Member = { name, role, replica, counters: { ...ZERO }, gone: false, group: relayGroup };
    if (role === 'http') member.target = { name, port: replica.port, inRotation: true };
    this.members.push(member);
    return member;
  }

  live(role: 'http' | 'relay'): Member[] {
    return this.members.filter((m) => m.role === role && !m.gone);
  }

  private emptiestGroup(): number {
    const count = Array.from(
      { length: this.relayGroups },
      (_, g) => this.live('relay').filter((m) => m.group === g).length,
    );
    return count.indexOf(Math.min(...count));
  }

  /** SIGKILL, as a crash. The load balancer notices by itself (refused connections, /readyz). */
  async kill(member: Member): Promise<void> {
    await this.scrapeOne(member);
    if (member.target) Object.assign(member.target, { downSince: Date.now(), downHow: 'killed' });
    member.gone = true;
    await member.replica.kill();
  }

  /** SIGTERM and wait for exit (graceful drain); returns the exit code. */
  async stop(member: Member): Promise<number | null> {
    if (member.target) Object.assign(member.target, { downSince: Date.now(), downHow: 'stopped' });
    const scraping = this.scrapeWhileStopping(member);
    const code = await member.replica.stop(30_000);
    member.gone = true;
    await scraping;
    return code;
  }

  /** Counters summed over every member that ever ran. */
  async counters(): Promise<DeploymentCounters> {
    await this.scrape();
    const sum = { ...ZERO };
    for (const m of this.members)
      for (const k of Object.keys(sum) as (keyof DeploymentCounters)[]) sum[k] += m.counters[k];
    return sum;
  }

  async stopAll(): Promise<void> {
    clearInterval(this.pollTimer);
    clearInterval(this.scrapeTimer);
    await Promise.allSettled(this.members.filter((m) => !m.gone).map((m) => m.replica.stop(15_000)));
    for (const m of this.members) m.gone = true;
  }

  private async poll(): Promise<void> {
    await Promise.all(
      this.members
        .filter((m) => m.target !== undefined && !m.gone)
        .map(async (m) => {
          const { status } = await httpGet(m.replica.port, '/readyz', 500);
          const t = m.target as Target;
          const ready = status === 200;
          if (ready !== t.inRotation) this.readyLog.push({ at: Date.now(), name: m.name, status });
          t.inRotation = ready && t.downSince === undefined;
        }),
    );
    for (const m of this.members) if (m.gone && m.target) m.target.inRotation = false;
  }

  private async scrape(): Promise<void> {
    await Promise.all(this.members.filter((m) => !m.gone).map((m) => this.scrapeOne(m)));
  }

  private async scrapeWhileStopping(member: Member): Promise<void> {
    while (member.replica.child.exitCode === null && member.replica.child.signalCode === null) {
      await this.scrapeOne(member);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async scrapeOne(m: Member): Promise<void> {
    const { status, body } = await httpGet(m.replica.port, '/metrics', 2000);
    if (status !== 200) return;
    m.counters = {
      duplicatesAbsorbed: metricValue(body, 'replygate_relay_writes_total', { result: 'duplicate' }),
      repliesStored: metricValue(body, 'replygate_relay_writes_total', { result: 'stored' }),
      lateReplies: metricValue(body, 'replygate_late_replies_total'),
      timeouts: metricValue(body, 'replygate_timeouts_total'),
      publishErrors: metricValue(body, 'replygate_publish_errors_total'),
    };
  }
}
