import { type Kafka, type Producer, Partitioners } from 'kafkajs';
import type { Logger } from '../observability/logger';
import { ProduceBatcher } from './produce-batcher';
import { buildRequestMessage } from './request-message';
import type { OutgoingRequest, RequestPublisher } from '../protocol/outgoing-request';

/** {@link RequestPublisher} on a kafkajs producer (acks=all, Java-compatible key partitioning). */
export class KafkaRequestPublisher implements RequestPublisher {
  private readonly producer: Producer;
  private isConnected = false;
  private readonly batcher: ProduceBatcher | undefined;

  /**
   * @param batching `adaptive`: a publish goes out at the end of the event-loop turn while fewer
   *   than `maxInFlight` sends to its topic are in flight, and otherwise joins the next batch
   *   (REPLYGATE_PRODUCER_BATCHING, REPLYGATE_PRODUCER_MAX_IN_FLIGHT);
   *   `off`: every publish is its own produce request, as kafkajs does. `lingerMs` > 0 also waits
   *   that long before sending a batch (REPLYGATE_PRODUCER_LINGER_MS).
   */
  constructor(
    kafka: Kafka,
    log: Logger,
    batching: { mode: 'adaptive' | 'off'; lingerMs: number; maxInFlight?: number } = { mode: 'adaptive', lingerMs: 0 },
  ) {
    this.producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: true,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
    });
    this.producer.on(this.producer.events.CONNECT, () => {
      this.isConnected = true;
    });
    this.producer.on(this.producer.events.DISCONNECT, () => {
      this.isConnected = false;
      log.info('Kafka producer disconnected');
    });
    if (batching.mode === 'adaptive' || batching.lingerMs > 0) {
      this.batcher = new ProduceBatcher(
        (topic, messages) => this.producer.send({ topic, messages, acks: -1 }).then(() => undefined),
        {
          lingerMs: batching.lingerMs,
          maxInFlight: batching.mode === 'adaptive' ? (batching.maxInFlight ?? 2) : Infinity,
          maxBatch: 500,
        },
      );
    }
  }

  get connected(): boolean {
    return this.isConnected;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.isConnected = true;
  }

  async disconnect(): Promise<void> {
    this.batcher?.flush();
    await this.producer.disconnect();
    this.isConnected = false;
  }

  /**
   * Publish and wait for the acknowledgement, but never past the request's deadline: while the
   * broker is away kafkajs retries for longer than a route timeout, and a request Kafka never
   * acknowledged must end as 503 RG_PUBLISH_FAILED (retry later), not as a 504 that blames the
   * service. kafkajs cannot abort a send, so a late acknowledgement may still publish it; the
   * responder then drops it as expired (rg-deadline).
   */
  async publish(request: OutgoingRequest): Promise<void> {
    const message = buildRequestMessage(request);
    const sending =
      this.batcher !== undefined
        ? this.batcher.add(request.topic, message, request.deadline)
        : this.producer.send({ topic: request.topic, acks: -1, messages: [message] });
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
