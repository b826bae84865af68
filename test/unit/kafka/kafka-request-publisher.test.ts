import { expect } from 'chai';
import type { Kafka, Message, Producer } from 'kafkajs';
import { silentLogger } from '../../../src/observability/logger';
import { KafkaRequestPublisher } from '../../../src/kafka/kafka-request-publisher';
import type { OutgoingRequest } from '../../../src/protocol/outgoing-request';

interface Send {
  messages: Message[];
  settle: () => void;
}

/** A kafkajs stand-in whose producer's sends stay in flight until the test settles them. */
function heldKafka(): { kafka: Kafka; sends: Send[] } {
  const sends: Send[] = [];
  const producer = {
    events: { CONNECT: 'producer.connect', DISCONNECT: 'producer.disconnect' },
    on: () => () => undefined,
    send: ({ messages }: { messages: Message[] }) =>
      new Promise((resolve) => sends.push({ messages, settle: () => resolve([]) })),
  } as unknown as Producer;
  return { kafka: { producer: () => producer } as unknown as Kafka, sends };
}

function request(n: number): OutgoingRequest {
  return {
    topic: 'orders.requests',
    dialect: 'replygate',
    correlationId: `id-${n}`,
    replyTopic: 'replies',
    deadline: Date.now() + 60_000,
    route: 'orders',
    method: 'POST',
    path: '/orders',
    params: {},
    query: {},
    headers: {},
    contentType: 'application/json',
    body: Buffer.from(String(n)),
    key: undefined,
  };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const bodies = (sends: Send[]): string[][] => sends.map((s) => s.messages.map((m) => String(m.value)));

describe('KafkaRequestPublisher batching settings', () => {
  it('REPLYGATE_PRODUCER_BATCHING=off: N requests in one turn make N produce calls', async () => {
    const { kafka, sends } = heldKafka();
    const publisher = new KafkaRequestPublisher(kafka, silentLogger(), { mode: 'off', lingerMs: 0 });
    const published = [1, 2, 3, 4].map((n) => publisher.publish(request(n)));
    await turn();
    expect(bodies(sends)).to.deep.equal([['1'], ['2'], ['3'], ['4']]);
    sends.forEach((s) => s.settle());
    await Promise.all(published);
  });

  it('adaptive: requests of one turn go as one produce call', async () => {
    const { kafka, sends } = heldKafka();
    const publisher = new KafkaRequestPublisher(kafka, silentLogger(), { mode: 'adaptive', lingerMs: 0 });
    const published = [1, 2, 3, 4].map((n) => publisher.publish(request(n)));
    await turn();
    expect(bodies(sends)).to.deep.equal([['1', '2', '3', '4']]);
    sends.forEach((s) => s.settle());
    await Promise.all(published);
  });

  for (const maxInFlight of [1, 2, 3]) {
    it(`REPLYGATE_PRODUCER_MAX_IN_FLIGHT=${maxInFlight}: that many produce calls in flight, later requests wait`, async () => {
      const { kafka, sends } = heldKafka();
      const publisher = new KafkaRequestPublisher(kafka, silentLogger(), {
        mode: 'adaptive',
        lingerMs: 0,
        maxInFlight,
      });
      const published: Promise<void>[] = [];
      for (let n = 1; n <= 5; n++) {
        published.push(publisher.publish(request(n)));
        await turn();
        await turn();
      }
      // One send per request until the slots are full; the rest wait for a free slot.
      expect(sends).to.have.length(maxInFlight);
      sends[0]!.settle();
      await turn();
      expect(bodies(sends).at(-1)).to.deep.equal(
        Array.from({ length: 5 - maxInFlight }, (_, i) => String(maxInFlight + 1 + i)),
      );
      sends.forEach((s) => s.settle());
      await turn();
      sends.forEach((s) => s.settle());
      await Promise.all(published);
    });
  }
});
