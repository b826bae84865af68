import { expect } from 'chai';
import type { Producer, ProducerRecord } from 'kafkajs';
import { sendParts } from '../../../src/responder/send-parts';

/** A producer that records what it is asked to send. */
function recordingProducer(): { producer: Producer; sent: ProducerRecord[] } {
  const sent: ProducerRecord[] = [];
  const producer = {
    send: (record: ProducerRecord) => {
      sent.push(record);
      return Promise.resolve([]);
    },
  } as unknown as Producer;
  return { producer, sent };
}

async function* twoParts(): AsyncGenerator<unknown> {
  yield { n: 1 };
  yield { n: 2 };
}

describe('sendParts', () => {
  it('marks only the final message of a NestJS-dialect stream as disposed, all on its reply partition', async () => {
    const { producer, sent } = recordingProducer();
    const address = {
      topic: 'nest.replies',
      correlationId: 'c1',
      springCorrelationId: Buffer.from('c1'),
      partition: 2,
    };
    const count = await sendParts(producer, address, { parts: twoParts() }, () => Promise.resolve());
    expect(count).to.equal(3);
    const disposed = sent.map((r) => r.messages[0]?.headers?.['kafka_nest-is-disposed'] !== undefined);
    expect(disposed).to.deep.equal([false, false, true]);
    expect(sent.map((r) => r.messages[0]?.headers?.['rg-seq'])).to.deep.equal(['0', '1', '2']);
    expect(sent.map((r) => r.messages[0]?.partition)).to.deep.equal([2, 2, 2]);
  });
});
