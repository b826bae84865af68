import { expect } from 'chai';
import type { ConsumerConfig, Kafka } from 'kafkajs';
import { silentLogger } from '../../../src/observability/logger';
import { CONSUMER_METADATA_MAX_AGE_MS, SupervisedConsumer } from '../../../src/kafka/supervised-consumer';

/** A kafkajs stand-in that records the config of every consumer built. */
function recordingKafka(): { kafka: Kafka; configs: ConsumerConfig[] } {
  const configs: ConsumerConfig[] = [];
  const kafka = {
    consumer: (config: ConsumerConfig) => {
      configs.push(config);
      return { events: {}, on: () => () => undefined };
    },
  } as unknown as Kafka;
  return { kafka, configs };
}

const supervise = (kafka: Kafka, consumerConfig: ConsumerConfig) =>
  new SupervisedConsumer({
    kafka,
    name: 'relay',
    consumerConfig,
    subscription: { topics: ['t'] },
    runConfig: () => ({ eachMessage: async () => undefined }),
    log: silentLogger(),
  });

describe('SupervisedConsumer: metadata age of the consumers it builds', () => {
  it('refreshes partition metadata every few seconds, so a consumer finds the leaders that replaced a dead broker', () => {
    const { kafka, configs } = recordingKafka();
    supervise(kafka, { groupId: 'g' });
    expect(configs[0]?.metadataMaxAge).to.equal(CONSUMER_METADATA_MAX_AGE_MS);
    expect(CONSUMER_METADATA_MAX_AGE_MS).to.be.at.most(5000);
  });

  it('keeps a metadataMaxAge the caller chose', () => {
    const { kafka, configs } = recordingKafka();
    supervise(kafka, { groupId: 'g', metadataMaxAge: 60_000 });
    expect(configs[0]?.metadataMaxAge).to.equal(60_000);
  });
});
