import { expect } from 'chai';
import {
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from 'kafkajs';
import {
  TopicAuthorizationError,
  explainSendRefusal,
  isConnectionError,
  isRetriableSendError,
} from '../../../src/kafka/send-errors';

/** A protocol error as kafkajs builds it from a broker's error code. */
const protocol = (type: string, retriable: boolean) =>
  new KafkaJSProtocolError({ type, code: 0, retriable, message: type } as unknown as Error);
/** What a kafkajs producer with `retries: 0` rejects with for a retriable error. */
const exhausted = (e: Error) => new KafkaJSNumberOfRetriesExceeded(e, { retryCount: 0, retryTime: 100 });

describe('send errors (kafkajs producer with retries: 0)', () => {
  it('a retriable cause wrapped in KafkaJSNumberOfRetriesExceeded may be sent again', () => {
    expect(isRetriableSendError(exhausted(protocol('NOT_LEADER_FOR_PARTITION', true)))).to.equal(true);
    expect(isRetriableSendError(exhausted(protocol('NOT_ENOUGH_REPLICAS', true)))).to.equal(true);
    expect(
      isRetriableSendError(exhausted(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'))),
    ).to.equal(true);
  });

  it('refusals are final', () => {
    expect(isRetriableSendError(protocol('TOPIC_AUTHORIZATION_FAILED', false))).to.equal(false);
    expect(isRetriableSendError(protocol('MESSAGE_TOO_LARGE', false))).to.equal(false);
    expect(
      isRetriableSendError(new KafkaJSNonRetriableError("The producer is disconnecting; therefore, it can't")),
    ).to.equal(false);
    expect(isRetriableSendError(new Error('plain'))).to.equal(false);
    expect(isRetriableSendError(undefined)).to.equal(false);
  });

  it('a retriable error thrown before the retrier (the producer reconnecting) may be sent again', () => {
    expect(isRetriableSendError(new KafkaJSError('The producer is disconnected'))).to.equal(true);
  });

  it('tells a broker that cannot be reached from one that refused', () => {
    expect(isConnectionError(exhausted(new KafkaJSConnectionError('Connection error', { broker: 'h:1' })))).to.equal(
      true,
    );
    expect(isConnectionError(exhausted(protocol('NOT_LEADER_FOR_PARTITION', true)))).to.equal(false);
  });

  it('names the topic and WRITE when the broker refused a send for want of an ACL; final', () => {
    const refusal = protocol('TOPIC_AUTHORIZATION_FAILED', false);
    // kafkajs' retrier wraps it as `new KafkaJSNonRetriableError(e, { cause: e })` (untyped option)
    const NonRetriable = KafkaJSNonRetriableError as unknown as new (e: Error, o: { cause: Error }) => Error;
    for (const err of [refusal, new NonRetriable(refusal, { cause: refusal })]) {
      const explained = explainSendRefusal(err, 'orders.requests');
      expect(explained).to.be.instanceOf(TopicAuthorizationError);
      expect((explained as Error).message)
        .to.include('WRITE')
        .and.to.include('"orders.requests"');
      expect((explained as Error).cause).to.equal(err);
      expect(isRetriableSendError(explained)).to.equal(false);
    }
    const other = exhausted(protocol('NOT_LEADER_FOR_PARTITION', true));
    expect(explainSendRefusal(other, 'orders.requests')).to.equal(other);
  });
});
