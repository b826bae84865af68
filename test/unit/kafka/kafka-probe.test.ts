import { expect } from 'chai';
import type { Kafka } from 'kafkajs';
import { silentLogger } from '../../../src/observability/logger';
import { KafkaProbe } from '../../../src/kafka/kafka-probe';

/** A kafkajs stand-in whose admin answers or refuses as `up` says at each call. */
function switchableKafka(): { kafka: Kafka; setUp: (up: boolean) => void } {
  let up = true;
  const admin = {
    connect: async () => {
      if (!up) throw new Error('ECONNREFUSED');
    },
    fetchTopicMetadata: async () => ({ topics: [] }),
    disconnect: async () => undefined,
  };
  return { kafka: { admin: () => admin } as unknown as Kafka, setUp: (v) => (up = v) };
}

describe('KafkaProbe', () => {
  it('turns unreachable after two misses in a row, not one, and reachable at the next answer', async () => {
    const { kafka, setUp } = switchableKafka();
    const probe = new KafkaProbe(kafka, 'replies', silentLogger(), 60_000, 1000);
    expect(await probe.probe()).to.equal(true);
    setUp(false);
    expect(await probe.probe(), 'after one miss').to.equal(true);
    expect(await probe.probe(), 'after two misses').to.equal(false);
    expect(probe.reachable).to.equal(false);
    setUp(true);
    expect(await probe.probe(), 'Kafka back').to.equal(true);
    setUp(false);
    expect(await probe.probe(), 'one miss after recovery').to.equal(true);
  });
});
