/** The errors of a kafkajs send, from the outermost to the root cause. */
function chain(err: unknown): { name?: unknown; retriable?: unknown; code?: unknown }[] {
  const out: { name?: unknown; retriable?: unknown; code?: unknown; cause?: unknown }[] = [];
  let e: unknown = err;
  while (typeof e === 'object' && e !== null && out.length < 8) {
    const x = e as { name?: unknown; retriable?: unknown; code?: unknown; cause?: unknown };
    out.push(x);
    e = x.cause;
  }
  return out;
}

/**
 * Whether a kafkajs send that failed with `err` may succeed if sent again: a leader moving
 * (NOT_LEADER_FOR_PARTITION, LEADER_NOT_AVAILABLE), too few in-sync replicas for the moment, a
 * broker refusing connections while it restarts. With kafkajs' retries at 0, such an error comes
 * wrapped in `KafkaJSNumberOfRetriesExceeded` (whose own `retriable` is false): its cause says.
 * Not retriable: authorization, a message too large, a producer being disconnected.
 */
export function isRetriableSendError(err: unknown): boolean {
  const [outer, ...causes] = chain(err);
  if (outer === undefined) return false;
  if (outer.name === 'KafkaJSNumberOfRetriesExceeded') return causes[0]?.retriable !== false;
  return outer.retriable === true;
}

const CONNECTION_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
]);

/** Whether a send failed because its broker could not be reached (not because the broker refused it). */
export function isConnectionError(err: unknown): boolean {
  return chain(err).some(
    (e) => (typeof e.name === 'string' && CONNECTION_ERRORS.has(e.name)) || e.code === 'ECONNREFUSED',
  );
}
