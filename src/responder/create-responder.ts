import { type Consumer, type ConsumerRunConfig, type Kafka, type Producer, Partitioners } from 'kafkajs';
import { ConfigError } from '../errors/startup-errors';
import pino, { type Logger } from 'pino';
import { createKafka, parseKafkaConnection } from '../kafka/kafka-client';
import { explainSendRefusal, TopicAuthorizationError } from '../kafka/send-errors';
import { CONSUMER_RETRY, heartbeatIntervalFor, SupervisedConsumer } from '../kafka/supervised-consumer';
import { type HandleMessage, KeyOrderedDispatcher } from './key-ordered-dispatcher';
import { decodeRequest, type ReplyAddress } from './decode-request';
import { type EncodedReply, encodeReply } from './encode-reply';
import { sendParts } from './send-parts';
import { replyForError } from './error-reply';
import type { RequestContext, RequestHandler, ResponderReply } from './request-context';
import { isResponderError } from '../errors/responder-error';
import type { Responder, ResponderOptions, ResponderStats } from './responder-options';

/** kafkajs only heartbeats between messages; a handler that awaits longer keeps the membership alive with this. */
const HEARTBEAT_EVERY_MS = 1000;
/** How often a reply topic that refuses WRITE is logged at error while the same request keeps coming back. */
const REFUSAL_LOG_EVERY_MS = 30_000;
/** Longest a fetch long-polls an idle topic: bounds how long stop() waits for it. */
const FETCH_MAX_WAIT_MS = 1000;
/**
 * The consumer group session timeout unless `sessionTimeoutMs` says otherwise: the relay's default.
 * kafkajs' own 30000 kept a responder's partitions unread for up to 30 s after a broker restart
 * whenever its consumer was rebuilt (the group waits out the old member's session).
 */
const DEFAULT_SESSION_TIMEOUT_MS = 10_000;
/**
 * How a reply send that failed is retried: a leader that moved (\`NOT_LEADER_FOR_PARTITION\` while a
 * broker hands its leaderships over) is found again within about a second, so the backoff is
 * capped at 500 ms (the consumers' cap) instead of growing to the client's 3000: a reply caught in
 * a leader move must still meet its request's deadline. 12 retries span ~5 s.
 */
const REPLY_SEND_RETRY = { retries: 12, initialRetryTime: 100, maxRetryTime: CONSUMER_RETRY.maxRetryTime } as const;

/**
 * Create a responder: a kafkajs consumer on `topic` that calls `handler` for each request and
 * produces its reply to the request's reply topic. The reply is sent before the request's offset
 * is committed, so a crash between the two re-handles the request (at-least-once).
 * Throws {@link ConfigError} naming the bad option.
 *
 * @example
 * const responder = createResponder({
 *   brokers: ['localhost:9092'],
 *   topic: 'orders.requests',
 *   groupId: 'orders-service',
 *   handler: (ctx) => ({ body: { id: ctx.params['orderId'] } }),
 * });
 * await responder.start();
 */
export function createResponder(options: ResponderOptions): Responder {
  const issues: string[] = [];
  if (typeof options.topic !== 'string' || options.topic === '') issues.push('topic: required');
  if (typeof options.groupId !== 'string' || options.groupId === '') issues.push('groupId: required');
  if (typeof options.handler !== 'function') issues.push('handler: must be a function');
  if (options.kafka === undefined && (options.brokers === undefined || options.brokers.length === 0)) {
    issues.push('brokers: give at least one broker, or pass kafka');
  }
  const concurrency = options.partitionsConsumedConcurrently ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) issues.push('partitionsConsumedConcurrently: integer ≥ 1');
  const perPartitionConcurrency = options.perPartitionConcurrency ?? 1;
  if (!Number.isInteger(perPartitionConcurrency) || perPartitionConcurrency < 1) {
    issues.push('perPartitionConcurrency: integer ≥ 1');
  }
  const joinTimeoutMs = options.joinTimeoutMs ?? 60_000;
  if (!Number.isInteger(joinTimeoutMs) || joinTimeoutMs < 1) issues.push('joinTimeoutMs: integer ≥ 1');
  const sessionTimeoutMs = options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
  if (!Number.isInteger(sessionTimeoutMs) || sessionTimeoutMs < 1) issues.push('sessionTimeoutMs: integer ≥ 1');
  if (issues.length > 0) throw new ConfigError(`Invalid responder options:\n  ${issues.join('\n  ')}`, issues);

  const log = (options.logger ?? pino({ level: 'silent' })).child({
    component: 'responder',
    topic: options.topic,
    groupId: options.groupId,
  });
  const kafka =
    options.kafka ??
    createKafka(
      options.brokers ?? [],
      options.clientId ?? 'replygate-responder',
      log,
      parseKafkaConnection(options.connection ?? {}, (key) => `connection.${key}`),
      (key) => `connection.${key}`,
    );
  return new KafkaResponder(kafka, log, {
    topic: options.topic,
    groupId: options.groupId,
    handler: options.handler,
    fromBeginning: options.fromBeginning ?? true,
    allowAutoTopicCreation: options.allowAutoTopicCreation ?? true,
    concurrency,
    perPartitionConcurrency,
    joinTimeoutMs,
    sessionTimeoutMs,
  });
}

interface Settings {
  topic: string;
  groupId: string;
  handler: RequestHandler;
  fromBeginning: boolean;
  allowAutoTopicCreation: boolean;
  concurrency: number;
  perPartitionConcurrency: number;
  joinTimeoutMs: number;
  sessionTimeoutMs: number;
}

class KafkaResponder implements Responder {
  readonly topic: string;
  readonly groupId: string;
  /** The consumer, rebuilt after any crash: a broker flap must not end the service (or its process). */
  private readonly supervised: SupervisedConsumer;
  /** With perPartitionConcurrency > 1: the current consumer's dispatcher. */
  private dispatcher: KeyOrderedDispatcher | undefined;
  private readonly producer: Producer;
  private readonly counters = { handled: 0, errors: 0, expired: 0, skipped: 0 };
  /** When a reply topic's WRITE refusal was last logged at error. */
  private readonly refusalLoggedAt = new Map<string, number>();
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private abortStart: ((err: Error) => void) | undefined;
  /** Re-arms the join bound of a pending start(); undefined once start() settled. */
  private armJoinBound: (() => void) | undefined;
  private joinTimer: NodeJS.Timeout | undefined;

  constructor(
    kafka: Kafka,
    private readonly log: Logger,
    private readonly settings: Settings,
  ) {
    this.topic = settings.topic;
    this.groupId = settings.groupId;
    // stop() waits for the fetch in flight; kafkajs' 5 s long poll made every stop take ~4.5 s.
    // A request still arrives at once (the broker answers a fetch as soon as data is there).
    this.supervised = new SupervisedConsumer({
      kafka,
      name: 'responder',
      consumerConfig: {
        groupId: settings.groupId,
        sessionTimeout: settings.sessionTimeoutMs,
        heartbeatInterval: heartbeatIntervalFor(settings.sessionTimeoutMs),
        maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
        allowAutoTopicCreation: settings.allowAutoTopicCreation,
      },
      subscription: { topics: [settings.topic], fromBeginning: settings.fromBeginning },
      runConfig: (consumer) => this.runConfig(consumer),
      setup: (consumer) => {
        consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
          log.info({ memberId: payload.memberId, assignment: payload.memberAssignment }, 'joined consumer group');
        });
      },
      log,
      // Waiting for the request topic to be created is not a slow join: the join bound of a pending
      // start() stops while the topic is missing and starts afresh once it is there.
      onWaitingForTopics: (topics) => {
        clearTimeout(this.joinTimer);
        if (topics.length === 0) this.armJoinBound?.();
      },
    });
    this.producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, retry: REPLY_SEND_RETRY });
  }

  private runConfig(consumer: Consumer): ConsumerRunConfig {
    const { concurrency, perPartitionConcurrency } = this.settings;
    const handle: HandleMessage = (p) => this.onMessage(p);
    if (perPartitionConcurrency === 1) {
      this.dispatcher = undefined;
      return { partitionsConsumedConcurrently: concurrency, eachMessage: handle };
    }
    const dispatcher = new KeyOrderedDispatcher(consumer, perPartitionConcurrency, handle, this.log);
    this.dispatcher = dispatcher;
    return {
      partitionsConsumedConcurrently: concurrency,
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => dispatcher.dispatch(payload),
    };
  }

  get stats(): ResponderStats {
    return { ...this.counters };
  }

  ready(): boolean {
    return this.stopping === undefined && this.supervised.joined;
  }

  get waitingForTopic(): boolean {
    return this.supervised.waitingForTopics.length > 0;
  }

  start(): Promise<void> {
    if (this.stopping !== undefined) return Promise.reject(new Error('Responder was stopped; create a new one'));
    this.starting ??= this.doStart();
    return this.starting;
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    if (this.starting !== undefined) {
      // Let a pending start() give up and settle first, so connect and disconnect never race.
      this.abortStart?.(new Error('Responder stopped before its consumer group joined'));
      await this.starting.catch(() => undefined);
    }
    await this.disconnect();
  }

  private async doStart(): Promise<void> {
    const { producer, settings } = this;
    // A crash while joining is recovered from like any other; only the join's bound fails start().
    const bounded = new Promise<never>((_resolve, reject) => {
      this.abortStart = reject;
      this.armJoinBound = () => {
        clearTimeout(this.joinTimer);
        this.joinTimer = setTimeout(
          () =>
            reject(
              new Error(
                `Consumer group ${settings.groupId} did not join within ${settings.joinTimeoutMs} ms ` +
                  '(responder option joinTimeoutMs)',
              ),
            ),
          settings.joinTimeoutMs,
        );
      };
      this.armJoinBound();
    });
    // Settled later by the race below; until then a rejection must not count as unhandled.
    bounded.catch(() => undefined);
    try {
      await Promise.race([
        (async () => {
          await producer.connect();
          await this.supervised.start();
        })(),
        bounded,
      ]);
      this.log.info('responder started');
    } catch (err) {
      if (this.stopping === undefined) {
        // A failed start leaves the responder stopped, as if stop() had been called.
        this.log.error({ err }, 'responder failed to start');
        this.stopping = this.disconnect().catch((disconnectErr: unknown) => {
          this.log.warn({ err: disconnectErr }, 'disconnect after a failed start failed');
        });
        await this.stopping;
      }
      throw err;
    } finally {
      clearTimeout(this.joinTimer);
      this.armJoinBound = undefined;
      this.abortStart = undefined;
    }
  }

  private async disconnect(): Promise<void> {
    // The consumer first: it finishes the messages in hand, whose replies still need the producer.
    await this.dispatcher?.drain();
    await this.supervised.stop();
    await this.producer.disconnect();
  }

  private async onMessage({ topic, partition, message, heartbeat }: Parameters<HandleMessage>[0]): Promise<void> {
    const decoded = decodeRequest(message, Date.now());
    if (!decoded.ok) {
      const where = { partition, offset: message.offset, correlationId: decoded.correlationId };
      if (decoded.reason === 'expired') {
        this.counters.expired++;
        this.log.debug({ ...where, deadline: decoded.deadline }, 'request expired before it was taken; dropped');
      } else {
        this.counters.skipped++;
        this.log.warn({ ...where, reason: decoded.reason }, 'message is not a request; skipped');
      }
      return;
    }
    const { context, reply: address } = decoded;
    const encoded = await this.answer(context, address, heartbeat);
    try {
      if (encoded.streamed !== undefined) {
        await sendParts(this.producer, address, encoded.streamed, heartbeat);
      } else {
        await this.producer.send({
          topic: address.topic,
          messages: [{ key: null, value: encoded.value, headers: encoded.headers, partition: address.partition }],
        });
      }
    } catch (err) {
      // Rethrown so kafkajs does not commit the offset and hands the request over again.
      const explained = explainSendRefusal(err, address.topic);
      const where = {
        topic,
        partition,
        offset: message.offset,
        correlationId: context.correlationId,
        replyTo: address.topic,
      };
      if (explained instanceof TopicAuthorizationError) {
        // The same request comes back until someone grants the ACL: say so once a while, in words.
        const now = Date.now();
        const last = this.refusalLoggedAt.get(address.topic) ?? -Infinity;
        if (now - last >= REFUSAL_LOG_EVERY_MS) {
          this.refusalLoggedAt.set(address.topic, now);
          this.log.error(where, `reply could not be sent: ${explained.message}`);
        } else {
          this.log.debug(where, 'reply could not be sent (WRITE refused, said above)');
        }
      } else {
        this.log.error({ ...where, err }, 'reply could not be sent');
      }
      throw err;
    }
    this.counters.handled++;
  }

  /** Run the handler and encode its reply, or the error reply for what it threw. */
  private async answer(
    ctx: RequestContext,
    address: ReplyAddress,
    heartbeat: () => Promise<void>,
  ): Promise<EncodedReply> {
    let beat: NodeJS.Timeout | undefined;
    try {
      const result = this.settings.handler(ctx);
      let reply: ResponderReply | void;
      if (isPromiseLike(result)) {
        // Only handlers that wait pay for a timer; synchronous replies (the echo hot path) do not.
        beat = setInterval(() => void heartbeat().catch(() => undefined), HEARTBEAT_EVERY_MS);
        reply = await result;
      } else {
        reply = result;
      }
      if (reply !== undefined && reply.parts !== undefined)
        return { value: Buffer.alloc(0), headers: {}, streamed: reply };
      return encodeReply(reply, address);
    } catch (err) {
      const meta = { correlationId: ctx.correlationId, route: ctx.route };
      if (isResponderError(err)) {
        this.log.debug({ ...meta, status: err.status, code: err.code }, 'handler answered with an error');
      } else {
        this.counters.errors++;
        this.log.error({ ...meta, err }, 'handler failed; answering 500');
      }
      try {
        return encodeReply(replyForError(err), address);
      } catch (encodeErr) {
        // e.g. ResponderError details holding a BigInt: answer a plain 500 rather than nothing.
        this.counters.errors++;
        this.log.error({ ...meta, err: encodeErr }, 'error reply could not be encoded; answering 500');
        return encodeReply(replyForError(undefined), address);
      }
    } finally {
      clearInterval(beat);
    }
  }
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}
