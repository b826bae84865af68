/** One error of a chain, with the fields kafkajs and Node put on errors. */
export interface ErrorLink {
  name?: unknown;
  message?: unknown;
  retriable?: unknown;
  code?: unknown;
  type?: unknown;
}

/**
 * A kafkajs error and what caused it, from the outermost to the root cause (`cause`, or kafkajs'
 * `originalError`), at most 8 deep.
 */
export function errorChain(err: unknown): ErrorLink[] {
  const out: ErrorLink[] = [];
  let e: unknown = err;
  while (typeof e === 'object' && e !== null && out.length < 8) {
    out.push(e as ErrorLink);
    const x = e as { cause?: unknown; originalError?: unknown };
    e = x.cause ?? x.originalError;
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
  const [outer, ...causes] = errorChain(err);
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
  return errorChain(err).some(
    (e) => (typeof e.name === 'string' && CONNECTION_ERRORS.has(e.name)) || e.code === 'ECONNREFUSED',
  );
}

/**
 * A send the broker refused for want of an ACL. kafkajs says only "Not authorized to access
 * topics: [Topic authorization failed]"; this names the topic and the operation the principal
 * lacks, for the `publish failed` log line. Not retriable.
 */
export class TopicAuthorizationError extends Error {
  override readonly name = 'TopicAuthorizationError';

  constructor(
    readonly topic: string,
    readonly operation: 'WRITE',
    options: { cause: unknown },
  ) {
    super(
      `not authorized to ${operation} to topic "${topic}" (TOPIC_AUTHORIZATION_FAILED): grant this principal ${operation} on it (docs/OPERATIONS.md, "Minimal ACLs")`,
      options,
    );
  }
}

/** `err` as a {@link TopicAuthorizationError} when the broker refused a send to `topic` for want of WRITE; else `err`. */
export function explainSendRefusal(err: unknown, topic: string): unknown {
  const refused = errorChain(err).some((e) => e.type === 'TOPIC_AUTHORIZATION_FAILED');
  return refused ? new TopicAuthorizationError(topic, 'WRITE', { cause: err }) : err;
}
