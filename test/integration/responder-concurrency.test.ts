import { expect } from 'chai';
import type { Responder } from '../../src/responder/responder-options';
import { silentLogger } from '../../src/observability/logger';
import { createEchoService } from '../../examples/samples/echo-service';
import type { ChildReplica } from '../support/processes';
import { createTopics, gatewayEnv, startReplica, uniqueGatewayNames, writeRoutes } from '../support/gateway-fixture';
import { useTestStack, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';
import { waitFor } from '../support/wait-for';

/**
 * Three slow requests on one partition at once: with perPartitionConcurrency 1 the echo service
 * takes them one after another and the last ones pass their deadline (504); with 3 they all answer.
 */
describe('integration: responder perPartitionConcurrency', function () {
  this.timeout(180_000);

  let stack: TestStack;
  let replica: ChildReplica | undefined;
  let echo: Responder | undefined;

  before(async () => {
    stack = await useTestStack();
  });

  after(async () => {
    await echo?.stop().catch(() => undefined);
    await replica?.stop(5_000).catch(() => undefined);
  });

  it('answers 3 concurrent delayed requests on one partition when N = 3', async () => {
    const names = uniqueGatewayNames('conc');
    const topic = unique('conc.echo');
    // One partition: every request lands on it, whatever its key.
    await waitFor(
      () =>
        createTopics(stack, [topic], 1).then(
          () => true,
          () => false,
        ),
      30_000,
      'topic created',
      500,
    );
    const routes = writeRoutes(`
routes:
  - name: echo
    method: POST
    path: /echo/:id
    topic: ${topic}
    key: params.id
    timeoutMs: 2500
`);
    replica = await startReplica('all', gatewayEnv(stack, names, { REPLYGATE_ROUTES: routes }));
    echo = createEchoService({
      brokers: stack.kafkaBrokers,
      topic,
      groupId: unique('conc-echo'),
      logger: silentLogger(),
      perPartitionConcurrency: 3,
    });
    await echo.start();
    const port = replica.port;
    const post = (id: string) =>
      fetch(`http://127.0.0.1:${port}/echo/${id}?delayMs=1500`, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      }).then(async (res) => {
        await res.arrayBuffer();
        return res.status;
      });
    const statuses = await Promise.all([post(unique('a')), post(unique('b')), post(unique('c'))]);
    expect(statuses).to.deep.equal([200, 200, 200]);
  });
});
