import { expect } from 'chai';
import { createEchoService } from '../../examples/samples/echo-service';
import { silentLogger } from '../../src/observability/logger';
import type { Responder } from '../../src/responder/responder-options';
import { EventService } from '../support/event-service';
import {
  createTopics,
  gatewayEnv,
  metricsOf,
  metricValue,
  startEcho,
  startReplica,
  testKafka,
  uniqueGatewayNames,
  writeRoutes,
} from '../support/gateway-fixture';
import type { ChildReplica } from '../support/processes';
import { useTestStack, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';
import { waitFor } from '../support/wait-for';

/** Route timeout of the trickle: shorter than any consumer-group failover (broker floor 6 s). */
const ROUTE_TIMEOUT_MS = 1000;
/** The relays' session timeout: the broker's floor, the shortest failover a single group gets. */
const SESSION_TIMEOUT_MS = 6000;
const TRICKLE_EVERY_MS = 20;

interface Sent {
  at: number;
  status?: number;
}

/**
 * Issue 16: a relay SIGKILLed (it does not leave its group; its partitions stay assigned to it
 * until its session expires) under a steady trickle of requests with a 1 s route timeout. With two
 * redundant relay groups no request answers 504: the other group's relay keeps writing every
 * partition. With one group (the previous behaviour) the requests whose reply lands on the dead
 * relay's partitions answer 504 until the group fails over.
 */
describe('integration: a relay SIGKILLed under load, redundant relay groups', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let echo: Responder;
  /** The same echo service for late replies, handling them side by side (the other one would queue them). */
  let slowEcho: Responder;
  const echoTopic = unique('redundancy.echo');
  const slowTopic = unique('redundancy.slow');
  /** An event-await route (issue 15): commands to a plain event service, answered by its VALIDATED event. */
  const orderTopic = unique('redundancy.orders');
  const eventTopic = unique('redundancy.order-events');
  let events: EventService;
  const processes: ChildReplica[] = [];

  before(async function () {
    stack = await useTestStack();
    await createTopics(stack, [echoTopic, slowTopic, orderTopic, eventTopic]);
    events = new EventService(testKafka(stack), orderTopic, eventTopic, unique('redundancy-events'));
    await events.start();
    slowEcho = createEchoService({
      brokers: stack.kafkaBrokers,
      topic: slowTopic,
      groupId: unique('slow-echo'),
      logger: silentLogger(),
      partitionsConsumedConcurrently: 4,
      perPartitionConcurrency: 16,
    });
    [echo] = await Promise.all([startEcho(stack, echoTopic), slowEcho.start()]);
  });

  after(async function () {
    await Promise.allSettled([echo?.stop(), slowEcho?.stop(), events?.stop()]);
    await Promise.allSettled(processes.map((p) => p.kill()));
  });

  async function deploy(groups: 1 | 2): Promise<{ http: ChildReplica; relays: ChildReplica[]; groupIds: string[] }> {
    const names = uniqueGatewayNames(`redundancy${groups}`);
    await createTopics(stack, [names.replyTopic]);
    const routes = writeRoutes(`
routes:
  - { name: echo, method: POST, path: /echo/:id, topic: ${echoTopic}, timeoutMs: ${ROUTE_TIMEOUT_MS} }
  - { name: late, method: POST, path: /late/:id, topic: ${slowTopic}, timeoutMs: ${ROUTE_TIMEOUT_MS} }
  - name: order
    method: POST
    path: /order/:id
    topic: ${orderTopic}
    key: params.id
    timeoutMs: ${ROUTE_TIMEOUT_MS}
    await: { topic: ${eventTopic}, match: { key: params.id }, state: { field: value.status, in: [VALIDATED] } }
`);
    const env = gatewayEnv(stack, names, {
      REPLYGATE_ROUTES: routes,
      REPLYGATE_RELAY_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
      REPLYGATE_RELAY_GROUPS: String(groups),
      REPLYGATE_EVENT_GROUP: unique('redundancy-events'),
      REPLYGATE_RELAY_LAG_INTERVAL_MS: '500',
    });
    const started = await Promise.all([
      startReplica('http', env),
      startReplica('relay', env, { REPLYGATE_RELAY_GROUP_INDEX: '0' }),
      startReplica('relay', env, { REPLYGATE_RELAY_GROUP_INDEX: groups === 2 ? '1' : '0' }),
    ]);
    processes.push(...started);
    const [http, ...relays] = started as [ChildReplica, ChildReplica, ChildReplica];
    return { http, relays, groupIds: groups === 2 ? [names.relayGroup, `${names.relayGroup}-1`] : [names.relayGroup] };
  }

  function post(http: ChildReplica, path: string): Promise<number> {
    return fetch(`http://127.0.0.1:${http.port}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    }).then(
      async (res) => {
        const text = await res.text();
        // An event route answers with the event of its own order, never another's.
        const order = /^\/order\/(.+)$/.exec(path)?.[1];
        if (res.status === 200 && order !== undefined && (JSON.parse(text) as { id?: string }).id !== order) return -2;
        return res.status;
      },
      () => -1,
    );
  }

  /** Requests every TRICKLE_EVERY_MS until stopped; resolves with every request once all are answered. */
  function trickle(http: ChildReplica, path = '/echo'): { stop: () => Promise<Sent[]> } {
    const sent: Sent[] = [];
    const answers: Promise<void>[] = [];
    const timer = setInterval(() => {
      const s: Sent = { at: Date.now() };
      sent.push(s);
      answers.push(post(http, `${path}/${unique('r')}`).then((status) => void (s.status = status)));
    }, TRICKLE_EVERY_MS);
    return {
      stop: async () => {
        clearInterval(timer);
        await Promise.all(answers);
        return sent;
      },
    };
  }

  const writesOf = async (relay: ChildReplica, result: string) =>
    metricValue(await metricsOf(relay), 'replygate_relay_writes_total', { result });
  /** Events of the order route read by a relay's event consumer (matched a waiter's route). */
  const eventsOf = async (relay: ChildReplica) =>
    metricValue(await metricsOf(relay), 'replygate_event_messages_total', { result: 'matched' });
  /** What a relay has handled on the trickle's path: reply writes, or matched events. */
  const handledBy = async (relay: ChildReplica, path: string) =>
    path === '/order' ? eventsOf(relay) : (await writesOf(relay, 'stored')) + (await writesOf(relay, 'duplicate'));

  /** SIGKILL and check the process is gone (the fault happened). */
  async function sigkill(victim: ChildReplica): Promise<void> {
    const pid = victim.child.pid!;
    await victim.kill();
    expect(victim.child.signalCode, 'the relay died of SIGKILL').to.equal('SIGKILL');
    expect(() => process.kill(pid, 0), `pid ${pid} gone`).to.throw(/ESRCH/);
  }

  async function killUnderTrickle(
    groups: 1 | 2,
    afterKillMs: number,
    beforeKill?: (http: ChildReplica) => Promise<void>,
    path = '/echo',
  ) {
    const { http, relays, groupIds } = await deploy(groups);
    const load = trickle(http, path);
    // Both relays write (single group: each owns some partitions once the group has settled).
    await waitFor(
      async () => {
        const handled = await Promise.all(relays.map((r) => handledBy(r, path)));
        return handled.every((n) => n > 0);
      },
      30_000,
      `both relays handling ${path} answers`,
    );
    const stored = await Promise.all(relays.map((r) => (path === '/order' ? eventsOf(r) : writesOf(r, 'stored'))));
    const victimIndex = stored[0]! >= stored[1]! ? 0 : 1;
    const victim = relays[victimIndex]!;
    const survivor = relays[1 - victimIndex]!;
    await beforeKill?.(http);
    const warmEnd = Date.now();
    await sigkill(victim);
    const killedAt = Date.now();
    await new Promise((r) => setTimeout(r, afterKillMs));
    const survivorMetrics = await metricsOf(survivor);
    const sent = await load.stop();
    const measured = sent.filter((s) => s.at >= warmEnd);
    const byStatus: Record<string, number> = {};
    for (const s of measured) byStatus[String(s.status)] = (byStatus[String(s.status)] ?? 0) + 1;
    return { measured, byStatus, killedAt, survivorMetrics, groupIds, victimIndex, http };
  }

  it('two groups: no request answers 504, the dead relay’s group lags while the other keeps up', async function () {
    const LATE = 5;
    const late = (http: ChildReplica) =>
      metricsOf(http).then((page) => metricValue(page, 'replygate_late_replies_total'));
    const { measured, byStatus, survivorMetrics, groupIds, victimIndex, http } = await killUnderTrickle(
      2,
      SESSION_TIMEOUT_MS + 1000,
      // Replies that come after their deadline, written by both groups while both are alive:
      // the second write is refused (SET NX), notifies nobody and is not counted late again.
      async (http) => {
        const statuses = await Promise.all(
          Array.from({ length: LATE }, (_, i) => post(http, `/late/${i}?delayMs=${ROUTE_TIMEOUT_MS + 300}`)),
        );
        expect(statuses, 'the late requests timed out').to.deep.equal(Array(LATE).fill(504));
        await waitFor(async () => (await late(http)) >= LATE, 10_000, 'the late replies counted');
      },
    );
    const afterKill = measured.length;
    expect(afterKill, 'requests sent across the kill').to.be.greaterThan(200);
    expect(byStatus, `answers of ${afterKill} requests sent from the kill on`).to.deep.equal({
      '200': afterKill,
    });
    expect(await late(http), 'late replies counted once each').to.equal(LATE);
    // The victim's group has no member left: its lag grows; the survivor's group keeps up.
    const lagOf = (group: string) => metricValue(survivorMetrics, 'replygate_relay_lag_messages', { group });
    expect(lagOf(groupIds[victimIndex]!), 'lag of the dead relay’s group').to.be.greaterThan(50);
    expect(lagOf(groupIds[1 - victimIndex]!), 'lag of the surviving group').to.be.below(50);
  });

  it('two groups, an event-await route: every waiter gets its own event across the SIGKILL (event groups follow the relay groups)', async function () {
    const { measured, byStatus } = await killUnderTrickle(2, SESSION_TIMEOUT_MS + 1000, undefined, '/order');
    expect(measured.length, 'requests sent across the kill').to.be.greaterThan(200);
    expect(byStatus, `answers of ${measured.length} event requests sent from the kill on`).to.deep.equal({
      '200': measured.length,
    });
  });

  it('one group, an event-await route: waiters whose event lands on the dead relay’s partitions answer 504', async function () {
    const { byStatus, measured } = await killUnderTrickle(1, 3000, undefined, '/order');
    expect(byStatus['-2'] ?? 0, 'answers carrying another order’s event').to.equal(0);
    expect(
      byStatus['504'] ?? 0,
      `answers of ${measured.length} event requests: ${JSON.stringify(byStatus)}`,
    ).to.be.greaterThan(0);
  });

  it('one group (the previous behaviour): requests whose reply lands on the dead relay’s partitions answer 504', async function () {
    const { byStatus, measured } = await killUnderTrickle(1, 3000);
    expect(
      byStatus['504'] ?? 0,
      `answers of ${measured.length} requests: ${JSON.stringify(byStatus)}`,
    ).to.be.greaterThan(0);
  });
});
