import { createRequire } from 'node:module';

/** kafkajs' `RequestQueue` (one per broker connection), as far as this fix reads it. */
interface RequestQueueLike {
  pending: unknown[];
  throttledUntil: number;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs' internal module holding `RequestQueue` (kafkajs 2.x has no `exports` map, so it resolves). */
const REQUEST_QUEUE_MODULE = 'kafkajs/src/network/requestQueue/index.js';

let fixed: boolean | undefined;

/**
 * Stops kafkajs 2.2.4's idle timer loop (tulios/kafkajs#1556, #1604, #1704; open upstream, whose
 * last release is 2.2.4). Once a connection's first request completes, its `RequestQueue` checks
 * for queued requests and schedules the next check whether or not any is queued: with none, the
 * timeout is negative, so node runs it after 1 ms, and the check schedules itself again. Every
 * kafkajs connection (producer, consumer, group coordinator, admin) then wakes its process about
 * 700 times a second for nothing: ~30 ms of CPU per second per idle replica here, and timers
 * competing with real work under load.
 *
 * The fix is the one proposed upstream (PR #1667, and the review of #1768): with nothing queued
 * and no broker throttle in force there is nothing to check, so nothing is scheduled. A request
 * that must wait is queued by `push()`, which schedules the check itself; a throttle with requests
 * queued is scheduled as before. Applied once, to the kafkajs this package resolves; returns
 * whether it is in place (false when kafkajs' internals are not the shape it expects: then it
 * changes nothing).
 */
export function fixKafkajsIdleLoop(): boolean {
  if (fixed !== undefined) return fixed;
  fixed = false;
  let proto: RequestQueueLike | undefined;
  try {
    proto = (createRequire(__filename)(REQUEST_QUEUE_MODULE) as { prototype?: RequestQueueLike }).prototype;
  } catch {
    return fixed;
  }
  const original = proto?.scheduleCheckPendingRequests;
  if (proto === undefined || typeof original !== 'function') return fixed;
  proto.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueueLike): void {
    if (this.pending.length === 0 && this.throttledUntil <= Date.now()) return;
    original.call(this);
  };
  fixed = true;
  return fixed;
}
