import type { KafkaConnectionInput } from '../kafka/kafka-client';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { RequestHandler } from './request-context';

/** Options of {@link createResponder}. Give `brokers` or a ready `kafka` client. */
export interface ResponderOptions {
  /** Kafka bootstrap brokers (`host:port`); used when `kafka` is not given. */
  brokers?: string[];
  /**
   * TLS and SASL settings, the same ones (and names) the gateway takes: `kafkaSecurityProtocol`,
   * `kafkaSaslMechanism`, `kafkaSaslUsername`, `kafkaSaslPasswordFile`, `kafkaTlsCaFile`,
   * `kafkaOauthTokenUrl`... `loadKafkaConnection(process.env)` reads them from the gateway's
   * environment variables. Used when `kafka` is not given. @defaultValue PLAINTEXT
   */
  connection?: KafkaConnectionInput;
  /** A kafkajs client to use instead of creating one from `brokers` and `connection`. */
  kafka?: Kafka;
  /** Request topic to consume. */
  topic: string;
  /** Consumer group id; instances of one service share it so each request is handled once. */
  groupId: string;
  /** Answers each request. */
  handler: RequestHandler;
  /** Structured logger; the responder logs under `component: 'responder'`. @defaultValue silent */
  logger?: Logger;
  /** Kafka client id when the responder creates the client. @defaultValue `replygate-responder` */
  clientId?: string;
  /**
   * Where a new consumer group starts reading: the oldest request (true) or only new ones.
   * Old requests past their deadline are dropped cheaply either way.
   * @defaultValue true
   */
  fromBeginning?: boolean;
  /**
   * Whether subscribing asks the broker to create a missing request topic (honoured only where the
   * broker has `auto.create.topics.enable=true`), as the Java consumer's `allow.auto.create.topics`.
   * Either way a responder whose topic is missing waits for it: `ready()` stays false and one warn
   * line naming the topic is logged (again every 30 s while it is missing) until it exists.
   * @defaultValue true
   */
  allowAutoTopicCreation?: boolean;
  /**
   * Partitions handled at once. Requests of one partition are handled one after another, so
   * a slow handler delays the requests queued behind it on the same partition.
   * @defaultValue 1
   */
  partitionsConsumedConcurrently?: number;
  /**
   * Requests of one partition handled at once. Requests with the same Kafka key (the route's
   * partition key) are still handled one after another, in order; requests with other keys, or
   * none, run side by side up to this many. Offsets are committed only up to the oldest request
   * not finished, so a crash re-handles what was in flight (at-least-once). 1 handles a partition
   * strictly in order, one request at a time.
   * @defaultValue 1
   */
  perPartitionConcurrency?: number;
  /**
   * How long `start()` may take, connecting included, until the consumer group has joined; then
   * it fails. A group whose old members did not leave cleanly can take up to their session
   * timeout to rebalance. Time spent waiting for a missing request topic does not count: the bound
   * starts afresh once the topic exists.
   * @defaultValue 60000
   */
  joinTimeoutMs?: number;
  /**
   * Consumer group session timeout: how long the group waits for a member that stopped
   * heartbeating (crashed, or rebuilt after a broker restart) before its partitions go to the
   * others. Requests on those partitions wait that long. Must lie within the broker's
   * `group.min.session.timeout.ms` (6000 by default) and `group.max.session.timeout.ms`.
   * @defaultValue 10000
   */
  sessionTimeoutMs?: number;
}

/** Counters of what a responder did since it started. */
export interface ResponderStats {
  /** Requests answered (including error replies). */
  readonly handled: number;
  /** Handler failures other than a `ResponderError` (answered 500), and replies that could not be encoded. */
  readonly errors: number;
  /** Requests dropped because their `rg-deadline` had passed when they were taken. */
  readonly expired: number;
  /** Messages dropped because they had no correlation id or reply topic. */
  readonly skipped: number;
}

/** A running request-reply service: consumes a request topic, answers on each request's reply topic. */
export interface Responder {
  /** The request topic. */
  readonly topic: string;
  /** The consumer group id. */
  readonly groupId: string;
  /** A snapshot of the counters. */
  readonly stats: ResponderStats;
  /**
   * True while the responder is a member of its consumer group, so requests on its topic are
   * taken: false before the join, while its request topic does not exist, while its consumer is
   * rebuilt after a crash, and after `stop()`. For a readiness probe.
   */
  ready(): boolean;
  /** True while the request topic does not exist and the responder waits for it to be created. */
  readonly waitingForTopic: boolean;
  /**
   * Connect, subscribe, and resolve once the consumer group has joined, so requests sent from
   * now on will be received. A request topic that does not exist yet is waited for (see
   * {@link ready}); errors kafkajs retries never end the responder. Calling it again returns the
   * same promise.
   */
  start(): Promise<void>;
  /**
   * Finish the request in hand, then disconnect; a pending `start()` rejects. Idempotent. A stopped
   * responder, or one whose start failed, cannot start again: create a new one.
   */
  stop(): Promise<void>;
}
