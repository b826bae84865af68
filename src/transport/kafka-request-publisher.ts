import { type Kafka, type Producer, Partitioners } from 'kafkajs';
import type { Logger } from '../logging';
import { buildRequestMessage } from './request-message';
import type { OutgoingRequest, RequestPublisher } from './request-publisher';

/** {@link RequestPublisher} on a kafkajs producer (acks=all, Java-compatible key partitioning). */
export class KafkaRequestPublisher implements RequestPublisher {
  private readonly producer: Producer;
  private isConnected = false;

  constructor(kafka: Kafka, log: Logger) {
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
  }

  get connected(): boolean {
    return this.isConnected;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.isConnected = true;
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
    this.isConnected = false;
  }

  async publish(request: OutgoingRequest): Promise<void> {
    const message = buildRequestMessage(request);
    await this.producer.send({ topic: request.topic, acks: -1, messages: [message] });
  }
}
