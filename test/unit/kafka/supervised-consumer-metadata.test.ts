import { expect } from 'chai';
import type { ConsumerConfig, Kafka } from 'kafkajs';
import { silentLogger } from '../../../src/observability/logger';
import {
  CONSUMER_METADATA_MAX_AGE_MS,
  CONSUMER_RETRY,
  SupervisedConsumer,
} from '../../../src/kafka/supervised-consumer';

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

describe('SupervisedConsumer: metadata age and retry of the consumers it builds', () => {
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

  it('caps the retry backoff (kafkajs restarts every fetcher after one fails, waiting that long; its own default doubles to 30 s)', () => {
    const { kafka, configs } = recordingKafka();
    supervise(kafka, { groupId: 'g' });
    const retry = configs[0]?.retry;
    expect(retry?.maxRetryTime).to.equal(CONSUMER_RETRY.maxRetryTime);
    expect(retry?.maxRetryTime).to.be.at.most(500);
    expect(retry?.retries).to.equal(CONSUMER_RETRY.retries);
  });

  it("keeps the caller's retry settings, and crashes are always left to the supervisor", async () => {
    const { kafka, configs } = recordingKafka();
    supervise(kafka, { groupId: 'g', retry: { retries: 10, maxRetryTime: 3000 } });
    const retry = configs[0]?.retry;
    expect(retry?.retries).to.equal(10);
    expect(retry?.maxRetryTime).to.equal(3000);
    expect(await retry?.restartOnFailure?.(new Error('x'))).to.equal(false);
  });
});
