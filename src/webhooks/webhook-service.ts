import { Queue, UnrecoverableError, Worker, type Job, type JobsOptions } from 'bullmq';
import type { StoredReplyDecoder } from '../exchange/stored-reply-decoder';
import type { Logger } from '../observability/logger';
import type { ReplyWrite } from '../exchange/reply-store';
import type { CallbackHookStore } from './callback-hook-store';
import { callbackPayload } from './callback-payload';
import type { CallbackSecret } from '../config/callback-secret';
import { ensureNoEviction, type EvictionCheckMode } from '../redis/redis-eviction-check';
import { isCluster, type RedisClient, type RedisConnections } from '../redis/redis-connections';
import { onEveryMaster } from '../redis/redis-masters';
import type { WebhookJobData } from './webhook-job';
import { bullPrefix, WEBHOOK_QUEUE } from './webhook-queue-names';
import { sendCallback } from './webhook-sender';

/** Settings of a {@link WebhookService}. */
export interface WebhookServiceOptions {
  /** The replica's Redis connection factory (BullMQ gets a connection whose commands never give up). */
  redis: RedisConnections;
  /** REPLYGATE_KEY_PREFIX; BullMQ's own prefix is derived from it (see {@link bullPrefix}). */
  keyPrefix: string;
  instanceId: string;
  hooks: CallbackHookStore;
  /** The signing secret of a route's callbacks, from the routes in force (reloads apply). */
  secretOf: (route: string) => CallbackSecret | undefined;
  /** REPLYGATE_WEBHOOK_CONCURRENCY: deliveries in flight per replica. */
  concurrency: number;
  /** REPLYGATE_WEBHOOK_TIMEOUT_MS: how long one POST may take. */
  timeoutMs: number;
  /** REPLYGATE_WEBHOOK_RETENTION_SEC: how long dead-lettered (failed) jobs are kept. */
  retentionSec: number;
  /** REPLYGATE_WEBHOOK_EVICTION_CHECK: refuse to start (`require`) or warn when Redis may evict. */
  evictionCheck: EvictionCheckMode;
  /** The replica's reply decoder: payloads get the configured header caps and dropped-header counting. */
  replyDecoder: StoredReplyDecoder;
  log: Logger;
}

/** Dead-lettered jobs kept at most, whatever their age. */
const MAX_FAILED_KEPT = 10_000;

/**
 * Durable callback delivery on BullMQ, run by relay-capable replicas. The relay hands it every
 * batch it stored ({@link afterWrite}) before committing the offset: replies with a hook become
 * jobs (job id = correlation id, so a re-read batch or the other relay group's write of the same
 * reply adds nothing while the job exists; once it is gone the hook's state is `delivered` or
 * `failed`, and a job added after that is dropped before its POST). Workers POST them signed,
 * retry with exponential backoff and jitter, and leave the last failure in BullMQ's failed set.
 * Completed jobs are removed at once (the hook records `delivered`); failed ones after
 * REPLYGATE_WEBHOOK_RETENTION_SEC.
 */
export class WebhookService {
  private readonly connection: RedisClient;
  private queue: Queue<WebhookJobData> | undefined;
  private worker: Worker<WebhookJobData> | undefined;
  private readonly log: Logger;

  constructor(private readonly options: WebhookServiceOptions) {
    this.log = options.log.child({ component: 'webhooks' });
    // BullMQ blocks on this connection's duplicates and needs commands never to give up.
    this.connection = options.redis.durable(`replygate:${options.instanceId}:webhooks`);
    this.connection.on('error', (err) => this.log.debug({ err }, 'redis webhook connection error'));
  }

  /** Whether the queue and the worker are connected. */
  get ready(): boolean {
    return this.connection.status === 'ready' && this.worker?.isRunning() === true;
  }

  /** Check Redis' eviction policy, then open the queue and start the worker. */
  async start(): Promise<void> {
    await this.connection.connect();
    const { evictionCheck } = this.options;
    await onEveryMaster(this.connection, (node) => ensureNoEviction(node, evictionCheck, this.log));
    const prefix = bullPrefix(this.options.keyPrefix, isCluster(this.connection));
    this.queue = new Queue<WebhookJobData>(WEBHOOK_QUEUE, { connection: this.connection, prefix });
    this.queue.on('error', (err) => this.log.warn({ err }, 'webhook queue error'));
    this.worker = new Worker<WebhookJobData>(WEBHOOK_QUEUE, (job) => this.deliver(job), {
      connection: this.connection,
      prefix,
      concurrency: this.options.concurrency,
      lockDuration: Math.max(30_000, this.options.timeoutMs * 2),
    });
    this.worker.on('error', (err) => this.log.warn({ err }, 'webhook worker error'));
    this.worker.on('failed', (job, err) => {
      if (job !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1)) {
        this.log.warn({ correlationId: job.id, url: job.data.url, err: err.message }, 'callback dead-lettered');
      }
    });
    await Promise.all([this.queue.waitUntilReady(), this.worker.waitUntilReady()]);
  }

  /**
   * Turn stored replies that have a pending hook into delivery jobs. Called by the relay after the
   * batch's writes and before its commit; throws (and the relay retries the batch) when Redis did
   * not take the jobs.
   */
  readonly afterWrite = async (writes: readonly ReplyWrite[]): Promise<void> => {
    const queue = this.queue;
    if (queue === undefined || writes.length === 0) return;
    const hooks = await this.options.hooks.readMany(writes.map((w) => w.correlationId));
    const jobs: { name: string; data: WebhookJobData; opts: JobsOptions }[] = [];
    hooks.forEach((hook, i) => {
      const write = writes[i];
      if (hook === undefined || hook.state !== 'pending' || write === undefined) return;
      jobs.push({
        name: 'deliver',
        data: {
          correlationId: write.correlationId,
          url: hook.url,
          route: hook.route,
          body: callbackPayload(
            write.correlationId,
            { name: hook.route, replyContentType: hook.replyContentType },
            write.value,
            this.options.replyDecoder,
          ),
        },
        opts: {
          jobId: write.correlationId,
          attempts: hook.attempts,
          backoff: { type: 'exponential', delay: hook.backoffMs, jitter: 0.5 },
          removeOnComplete: true,
          removeOnFail: { age: this.options.retentionSec, count: MAX_FAILED_KEPT },
        },
      });
    });
    if (jobs.length > 0) await queue.addBulk(jobs);
  };

  private async deliver(job: Job<WebhookJobData>): Promise<void> {
    const { correlationId, route } = job.data;
    const attempt = job.attemptsMade + 1;
    // A second hand-off of the same reply (another relay group's write, or a re-read after a
    // crash) becomes a second job only once the first is gone, i.e. delivered or dead-lettered:
    // the hook's state says so, and that job ends here without a POST.
    const hook = await this.options.hooks.read(correlationId).catch(() => undefined); // unread: deliver
    if (hook !== undefined && hook.state !== 'pending') {
      this.log.debug({ correlationId, state: hook.state }, 'callback already settled; duplicate job dropped');
      return;
    }
    const secret = this.options.secretOf(route);
    if (secret === undefined) {
      await this.recordState(correlationId, 'failed', attempt);
      throw new UnrecoverableError(`route ${route} no longer configures callbacks (routes file: callbacks)`);
    }
    try {
      await sendCallback(job.data, secret, attempt, this.options.timeoutMs);
    } catch (err) {
      const final = attempt >= (job.opts.attempts ?? 1);
      await this.recordState(correlationId, final ? 'failed' : 'pending', attempt);
      throw err;
    }
    await this.recordState(correlationId, 'delivered', attempt);
  }

  /** A state that could not be recorded is logged, never a reason to deliver again. */
  private async recordState(id: string, state: 'pending' | 'delivered' | 'failed', tries: number): Promise<void> {
    try {
      await this.options.hooks.setState(id, state, tries);
    } catch (err) {
      this.log.warn({ err, correlationId: id, state }, 'could not record callback state');
    }
  }

  /** Let deliveries in hand finish, then close the worker, the queue and the connection. */
  async stop(): Promise<void> {
    await this.worker?.close().catch((err: unknown) => this.log.warn({ err }, 'webhook worker close failed'));
    await this.queue?.close().catch((err: unknown) => this.log.warn({ err }, 'webhook queue close failed'));
    this.connection.disconnect();
  }
}
