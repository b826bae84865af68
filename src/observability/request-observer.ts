import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from './logger';
import type { GatewayTracer } from './gateway-tracer';
import { TRACE_HEADERS, formatTraceparent, parseTraceparent, type TraceContext } from '../protocol/trace-context';
import { HTTP_HEADERS } from '../protocol/http-headers';

/** What the gateway handler tells the observer about one request while it runs. */
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
}

/** Opens the observation of one request; the handler calls it first. */
export type RequestObserver = (req: IncomingMessage, res: ServerResponse, correlationId: string) => RequestObservation;

/** Settings of {@link createRequestObserver}. */
export interface RequestObserverOptions {
  tracer: GatewayTracer;
  /** Namespaced logger; request lines go out at `info`. */
  log: Logger;
  /** One log line per request (REPLYGATE_REQUEST_LOG). @defaultValue true */
  logRequests?: boolean;
}

/**
 * The per-request observability hook: continues (or starts) the W3C trace, answers with a
 * `traceparent` response header, and when the response is finished or the client left, ends the
 * server span and writes one log line: correlation id, route, method, status, latency, trace id.
 * A request the client abandoned logs status 499.
 */
export function createRequestObserver(options: RequestObserverOptions): RequestObserver {
  const { tracer, log } = options;
  const logRequests = options.logRequests ?? true;
  return (req, res, correlationId) => {
    const startedAt = process.hrtime.bigint();
    const incoming = parseTraceparent(req.headers[TRACE_HEADERS.traceparent], req.headers[TRACE_HEADERS.tracestate]);
    const method = req.method ?? 'GET';
    const span = tracer.startServer(method, incoming, {
      'http.request.method': method,
      'replygate.correlation_id': correlationId,
    });
    res.setHeader(TRACE_HEADERS.traceparent, formatTraceparent(span.context));
    let route = 'unmatched';
    res.once('close', () => {
      const status = res.writableFinished ? res.statusCode : 499;
      span.setAttributes({ 'http.response.status_code': status, 'http.route': route });
      span.end(status >= 500);
      if (!logRequests) return;
      log.info(
        {
          correlationId: String(res.getHeader(HTTP_HEADERS.correlationId) ?? correlationId),
          route,
          method,
          status,
          latencyMs: Math.round(Number(process.hrtime.bigint() - startedAt) / 1e4) / 100,
          traceId: span.context.traceId,
        },
        'request',
      );
    });
    return {
      trace: span.context,
      setRoute(name, topic) {
        route = name;
        span.setAttributes({ 'http.route': name, 'messaging.destination.name': topic });
      },
      replyTrace(traceparent) {
        if (res.headersSent) return;
        const reply = parseTraceparent(traceparent);
        if (reply !== undefined && reply.traceId === span.context.traceId) {
          res.setHeader(TRACE_HEADERS.traceparent, formatTraceparent(reply));
        } else {
          res.setHeader(TRACE_HEADERS.traceparent, formatTraceparent(span.context));
        }
      },
    };
  };
}
