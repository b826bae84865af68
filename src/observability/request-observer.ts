import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from './logger';
import type { GatewaySpan, GatewayTracer } from './gateway-tracer';
import { TRACE_HEADERS, formatTraceparent, parseTraceparent, type TraceContext } from '../protocol/trace-context';
import { HTTP_HEADERS } from '../protocol/http-headers';

/**
 * The observation of one request: the handler tells it what happens, the response asks it for the
 * `traceparent` to answer with as its headers are written and tells it when it closed.
 */
export interface RequestObservation {
  /** The gateway's hop of the trace: sent to the service as the Kafka `traceparent`. */
  readonly trace: TraceContext;
  /** The route matched (before that the request logs as `unmatched`). */
  setRoute(name: string, topic: string): void;
  /**
   * The `traceparent` the service's reply carried: the response continues from it when it belongs
   * to this trace (the service's span), else keeps the gateway's own.
   */
  replyTrace(traceparent: string | undefined): void;
  /** The `traceparent` response header: the gateway's span, or the service's (see {@link replyTrace}). */
  responseTraceparent(): string;
  /**
   * The response closed: ends the server span and writes the request's log line. A response that
   * did not finish (the client left) is status 499.
   */
  closed(res: ServerResponse): void;
}

/** Opens the observation of one request; the handler calls it first. */
export type RequestObserver = (req: IncomingMessage, correlationId: string) => RequestObservation;

/** Settings of {@link createRequestObserver}. */
export interface RequestObserverOptions {
  tracer: GatewayTracer;
  /** Namespaced logger; request lines go out at `info`. */
  log: Logger;
  /** One log line per request (REPLYGATE_REQUEST_LOG). @defaultValue true */
  logRequests?: boolean;
}

/**
 * One request's observation, an object of its own rather than closures over the request: it lives
 * as long as the request is parked.
 */
class HttpRequestObservation implements RequestObservation {
  private route = 'unmatched';
  /** The service's span, when its reply continued this trace. */
  private replied: TraceContext | undefined = undefined;

  constructor(
    private readonly options: Required<RequestObserverOptions>,
    private readonly span: GatewaySpan,
    private readonly method: string,
    private readonly correlationId: string,
    private readonly startedAt: bigint,
  ) {}

  get trace(): TraceContext {
    return this.span.context;
  }

  setRoute(name: string, topic: string): void {
    this.route = name;
    this.span.setAttributes({ 'http.route': name, 'messaging.destination.name': topic });
  }

  replyTrace(traceparent: string | undefined): void {
    const reply = parseTraceparent(traceparent);
    this.replied = reply !== undefined && reply.traceId === this.span.context.traceId ? reply : undefined;
  }

  responseTraceparent(): string {
    return formatTraceparent(this.replied ?? this.span.context);
  }

  closed(res: ServerResponse): void {
    const status = res.writableFinished ? res.statusCode : 499;
    const { span, route } = this;
    span.setAttributes({ 'http.response.status_code': status, 'http.route': route });
    span.end(status >= 500);
    if (!this.options.logRequests) return;
    this.options.log.info(
      {
        correlationId: String(res.getHeader(HTTP_HEADERS.correlationId) ?? this.correlationId),
        route,
        method: this.method,
        status,
        latencyMs: Math.round(Number(process.hrtime.bigint() - this.startedAt) / 1e4) / 100,
        traceId: span.context.traceId,
      },
      'request',
    );
  }
}

/**
 * The per-request observability hook: continues (or starts) the W3C trace, answers with a
 * `traceparent` response header, and when the response is finished or the client left, ends the
 * server span and writes one log line: correlation id, route, method, status, latency, trace id.
 * A request the client abandoned logs status 499. The response side is wired by the HTTP layer
 * (`openGatewayResponse`).
 */
export function createRequestObserver(options: RequestObserverOptions): RequestObserver {
  const settings: Required<RequestObserverOptions> = { ...options, logRequests: options.logRequests ?? true };
  const { tracer } = settings;
  return (req, correlationId) => {
    const startedAt = process.hrtime.bigint();
    const incoming = parseTraceparent(req.headers[TRACE_HEADERS.traceparent], req.headers[TRACE_HEADERS.tracestate]);
    const method = req.method ?? 'GET';
    const span = tracer.startServer(method, incoming, {
      'http.request.method': method,
      'replygate.correlation_id': correlationId,
    });
    return new HttpRequestObservation(settings, span, method, correlationId, startedAt);
  };
}
