import type { Kafka, Producer } from 'kafkajs';
import type { Logger } from '../observability/logger';
import { LeaderAwarePartitioner } from './leader-aware-partitioner';
import { ProduceBatcher } from './produce-batcher';
import { explainSendRefusal, isConnectionError, isRetriableSendError } from './send-errors';
import { buildRequestMessage, type ReplyPartitionHint } from './request-message';
import type { OutgoingRequest, RequestPublisher } from '../protocol/outgoing-request';

/**
 * How long the producer trusts its partition metadata before it asks again, even without an error
 * (kafkajs `metadataMaxAge`, 300000 by default). Errors refresh it at once anyway (a leader that
 * moved answers NOT_LEADER_FOR_PARTITION; a dead one refuses the connection); a short age also
 * catches moves that cause no error, e.g. leadership going back to a restarted broker, and keeps
 * the keyless partition choice on fresh leaders. One metadata request per interval per producer.
 * A candidate setting (REPLYGATE_PRODUCER_METADATA_MAX_AGE_MS); hard-coded until it is declared.
 */
export const PRODUCER_METADATA_MAX_AGE_MS = 5000;

/**
 * {@link RequestPublisher} on a kafkajs producer: acks=all (-1) on every send, keyed messages
 * partitioned as Kafka's Java client does, keyless ones away from leaders that cannot be reached
 * ({@link LeaderAwarePartitioner}), one produce call per partition leader, and a send that failed
 * for a passing reason (a leader moving, a broker away) sent again until the request's deadline.
 */
export class KafkaRequestPublisher implements RequestPublisher {
  private readonly producer: Producer;
  private isConnected = false;
  private readonly batcher: ProduceBatcher;

  /**
   * @param batching `adaptive`: a publish goes out at the end of the event-loop turn while fewer
   *   than `maxInFlight` sends to its topic are in flight, and otherwise joins the next batch
   *   (REPLYGATE_PRODUCER_BATCHING, REPLYGATE_PRODUCER_MAX_IN_FLIGHT);
   *   `off`: every publish is its own produce request, as kafkajs does. `lingerMs` > 0 also waits
   *   that long before sending a batch (REPLYGATE_PRODUCER_LINGER_MS).
   * @param replyPartition the reply partition each request names, when one is known (role `all`:
   *   one its own relay reads; REPLYGATE_REPLY_PARTITION_HINT).
   */
  constructor(
    kafka: Kafka,
    log: Logger,
    batching: { mode: 'adaptive' | 'off'; lingerMs: number; maxInFlight?: number } = { mode: 'adaptive', lingerMs: 0 },
    private readonly replyPartition?: ReplyPartitionHint,
  ) {
    const partitioner = new LeaderAwarePartitioner();
    this.producer = kafka.producer({
      createPartitioner: partitioner.create,
      allowAutoTopicCreation: true,
      metadataMaxAge: PRODUCER_METADATA_MAX_AGE_MS,
      // One attempt per send: the batcher retries, per leader, until each request's deadline.
      // kafkajs' own retry resends only to brokers that have not answered yet, and so silently
      // drops messages that a leader change moved onto a broker that had (kafkajs issue #1303).
      retry: { retries: 0 },
    });
    this.producer.on(this.producer.events.CONNECT, () => {
      this.isConnected = true;
    });
    this.producer.on(this.producer.events.DISCONNECT, () => {
      this.isConnected = false;
      log.info('Kafka producer disconnected');
    });
    const gathers = batching.mode === 'adaptive' || batching.lingerMs > 0;
    this.batcher = new ProduceBatcher(
      async (topic, messages, group) => {
        const leader = group === undefined ? -1 : Number(group);
        try {
          await this.producer.send({ topic, messages, acks: -1 });
        } catch (err) {
          if (isConnectionError(err)) partitioner.avoid(leader);
          throw explainSendRefusal(err, topic);
        }
        partitioner.reachable(leader);
      },
      {
        lingerMs: batching.lingerMs,
        maxInFlight: batching.mode === 'adaptive' ? (batching.maxInFlight ?? 2) : Infinity,
        // `off` without linger: one produce call per request, sent at once.
        maxBatch: gathers ? 500 : 1,
        prepare: (topic, message) => {
          const placed = partitioner.place(topic, message);
          return placed === undefined
            ? { group: '-1', message }
            : { group: String(placed.leader), message: { ...message, partition: placed.partition } };
        },
        retry: { isRetriable: isRetriableSendError },
      },
    );
  }

  get connected(): boolean {
    return this.isConnected;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.isConnected = true;
  }

  async disconnect(): Promise<void> {
    this.batcher.flush();
    await this.producer.disconnect();
    this.isConnected = false;
  }

  /**
   * Publish and wait for the acknowledgement, but never past the request's deadline. A send that
   * fails for a passing reason (a partition's leader moving or not reachable yet, a broker
   * restarting) is sent again with backoff for as long as the deadline allows, so a failover
   * shorter than the route timeout costs latency, not an error; a request Kafka never
   * acknowledged by its deadline ends as 503 RG_PUBLISH_FAILED (retry later), not as a 504 that
   * blames the service. kafkajs cannot abort a send, so a late acknowledgement may still publish
   * it; the responder then drops it as expired (rg-deadline).
   */
  async publish(request: OutgoingRequest): Promise<void> {
    const message = buildRequestMessage(request, this.replyPartition?.next());
    const sending = this.batcher.add(request.topic, message, request.deadline);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Kafka did not acknowledge the request before its deadline (${request.deadline})`)),
        Math.max(0, request.deadline - Date.now()),
      );
    });
    sending.catch(() => undefined); // settled by the race below, or ignored once the deadline won
    try {
      await Promise.race([sending, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}
