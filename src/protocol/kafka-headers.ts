/**
 * Kafka header names replygate writes on requests and reads on replies.
 *
 * The native dialect uses the `rg-` prefix. Routes may instead speak the Spring for Apache Kafka
 * or NestJS dialects so that existing repliers work behind the gateway unchanged.
 */
export const RG_HEADERS = {
  /** Correlation id, `<instanceId>.<random>`; copied unchanged onto the reply. */
  correlationId: 'rg-correlation-id',
  /** Topic the service must send its reply to. */
  replyTo: 'rg-reply-to',
  /**
   * Partition of the reply topic the reply should go to (decimal), when the gateway names one: a
   * replica that relays too (role `all`) names one its own relay reads. Optional for services.
   */
  replyPartition: 'rg-reply-partition',
  /** Epoch milliseconds after which the caller has given up; a service may drop the request. */
  deadline: 'rg-deadline',
  /** Name of the route that produced the request (lets one topic serve several operations). */
  route: 'rg-route',
  /** HTTP method of the original request. */
  method: 'rg-method',
  /** Path of the original request, as received (without the query string). */
  path: 'rg-path',
  /** JSON object of the route's path parameters. */
  params: 'rg-params',
  /** JSON object of the query string (values are strings or string arrays). */
  query: 'rg-query',
  /** JSON object of allow-listed client headers (lower-case names). */
  headers: 'rg-headers',
  /** Authenticated caller's subject, set by the gateway only. */
  authSubject: 'rg-auth-subject',
  /** Id of the API key or signing key that authenticated the caller. */
  authKeyId: 'rg-auth-key-id',
  /** Space-separated scopes of the caller. */
  authScopes: 'rg-auth-scopes',
  /** How the caller authenticated: `apiKey` or `jwt`. */
  authMethod: 'rg-auth-method',
  /** On streamed reply parts: the part's sequence number, from 0. */
  seq: 'rg-seq',
  /** On the last streamed reply part: `true`. */
  final: 'rg-final',
  /**
   * On a scatter-gather request: how many replies the gateway gathers. On each reply: `true`, so
   * every responder's reply is kept (not only the first, as for a plain request).
   */
  gather: 'rg-gather',
  /** On replies: the HTTP status to answer with (decimal). Absent means 200. */
  status: 'rg-status',
  /** Content type of the value, on requests and replies. */
  contentType: 'content-type',
} as const;

/** Header names of Spring for Apache Kafka's `ReplyingKafkaTemplate` / `@SendTo`. */
export const SPRING_HEADERS = {
  correlationId: 'kafka_correlationId',
  replyTopic: 'kafka_replyTopic',
  replyPartition: 'kafka_replyPartition',
} as const;

/** Header names of the NestJS microservices Kafka transport. */
export const NEST_HEADERS = {
  correlationId: 'kafka_correlationId',
  replyTopic: 'kafka_replyTopic',
  replyPartition: 'kafka_replyPartition',
  error: 'kafka_nest-err',
  isDisposed: 'kafka_nest-is-disposed',
} as const;

/** The header conventions a route can speak towards its service. */
export type Dialect = 'replygate' | 'spring' | 'nestjs';

/** Raw Kafka headers as kafkajs delivers them. */
export type RawHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

/** Read one header as a UTF-8 string; the first value wins when the header repeats. */
export function headerString(headers: RawHeaders | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  let value = headers[name];
  if (Array.isArray(value)) value = value[0];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.toString('utf8');
}
