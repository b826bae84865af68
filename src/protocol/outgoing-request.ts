import type { CallerIdentity } from './caller-identity';
import type { Dialect } from './kafka-headers';
import type { EventInterest } from './event-await';
import type { TraceContext } from './trace-context';

/** One request on its way to a service's topic. */
export interface OutgoingRequest {
  topic: string;
  dialect: Dialect;
  correlationId: string;
  replyTopic: string;
  /** Epoch ms after which the caller has given up. */
  deadline: number;
  route: string;
  method: string;
  path: string;
  params: Record<string, string>;
  query: Record<string, unknown>;
  /** Allow-listed client headers, lower-case names. */
  headers: Record<string, string>;
  contentType: string | undefined;
  /** Raw request body; empty when there was none. */
  body: Buffer;
  /** Partition key, when the route defines one. */
  key: string | undefined;
  /** Scatter-gather: how many replies the gateway gathers (sent as `rg-gather`). */
  gather?: number | undefined;
  /** The authenticated caller, sent as gateway-set headers (never taken from the client). */
  identity?: CallerIdentity | undefined;
  /** The gateway's hop of the W3C trace, sent as the Kafka `traceparent`/`tracestate` headers. */
  trace?: TraceContext | undefined;
  /**
   * An event route (`await`): the interest to register before the command is published. With
   * `command: false` on the route nothing is published (a blocking read).
   */
  awaits?: EventInterest | undefined;
  /** Whether the request is published to Kafka (false for a blocking read). @defaultValue true */
  publish?: boolean | undefined;
}

/**
 * Publishes requests to Kafka. Resolves once the broker acknowledged the write; rejects when it
 * could not be written (the caller answers 503).
 */
export interface RequestPublisher {
  publish(request: OutgoingRequest): Promise<void>;
  /** Whether the producer is currently connected. */
  readonly connected: boolean;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}
