import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { parseStackEnv } from '../../examples/demo/stack-env';
import { gatewayEnv, uniqueGatewayNames, writeRoutes } from '../support/gateway-fixture';
import { startProcess, type ChildReplica } from '../support/processes';
import { serversOf, type TestStack } from '../support/test-stack';
import { waitFor } from '../support/wait-for';

const exec = promisify(execFile);
const ROOT = resolve(__dirname, '../..');

/**
 * What an operator reads while Kafka is down: a replica's warn lines during a 10 s broker stop.
 * Stopping a broker would break every other test, so this file starts a stack of its own
 * (scripts/stack.sh in its own state dir; about 20 s more on a busy machine).
 */
describe('integration: log lines while Kafka is down', function () {
  this.timeout(240_000);
  const dir = resolve(ROOT, `.stack/kafka-outage-${process.pid}`);
  const env = { ...process.env, REPLYGATE_STACK_DIR: dir, STACK_KAFKA_HEAP_OPTS: '-Xms128m -Xmx384m' };
  const stack = (...args: string[]) => exec('bash', [resolve(ROOT, 'scripts/stack.sh'), ...args], { env });
  let own: TestStack;
  let replica: ChildReplica | undefined;

  before(async function () {
    const vars = parseStackEnv((await stack('up')).stdout);
    own = {
      ...serversOf(vars),
      source: 'local',
      stop: async () => undefined,
    };
  });

  after(async function () {
    await replica?.stop();
    await stack('down').catch(() => undefined);
  });

  it('logs at most a handful of warn lines for a 10 s Kafka stop, and says when it is back', async function () {
    const routes = writeRoutes('routes:\n  - { name: q, method: GET, path: /q, topic: outage.requests }\n');
    replica = await startProcess(
      ['serve', '--role', 'all'],
      gatewayEnv(own, uniqueGatewayNames('outage'), { REPLYGATE_ROUTES: routes, LOG_LEVEL: 'info' }),
    );
    const from = replica.output.length;
    await stack('stop', 'kafka');
    await new Promise((r) => setTimeout(r, 10_000)); // the outage being measured, not a synchronisation
    const during = replica.output.slice(from);
    await stack('start', 'kafka');
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${replica!.port}/readyz`)).status === 200,
      90_000,
      'the replica ready again after Kafka came back',
      500,
    );
    const warnLines = during.filter((l) => /"level":(40|50)/.test(l));
    const fromKafkajs = warnLines.filter((l) => l.includes('"lib":"kafkajs"'));
    // Printed for the record: what the measurement found.
    process.stderr.write(
      `      warn/error lines during the 10 s Kafka stop: ${warnLines.length} (kafkajs: ${fromKafkajs.length})\n`,
    );
    // kafkajs alone wrote dozens before its log creator collapsed outages; one line per state
    // change is the goal. The rest come from our components (the Kafka probe: one line; the
    // relay's consumer supervisor: one per rebuild attempt, spaced by its backoff).
    expect(fromKafkajs.length, fromKafkajs.join('\n')).to.be.at.most(2);
    expect(warnLines.length, warnLines.join('\n')).to.be.at.most(12);
    expect(during.join('\n')).to.include('kafka broker unreachable');
    await waitFor(
      () => replica!.output.some((l) => l.includes('kafka broker reachable again after')),
      30_000,
      'the "reachable again" line',
      200,
    );
  });
});
