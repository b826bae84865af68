import type * as OtelApi from '@opentelemetry/api';
import type { Context, Span, SpanContext, Tracer } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { GatewaySpan, GatewayTracer, SpanAttributes } from './gateway-tracer';
import type { TraceContext } from '../protocol/trace-context';

/** Settings of {@link createOtelTracer}. */
export interface OtelTracerOptions {
  /** OTLP/HTTP endpoint; `/v1/traces` is appended unless the URL already ends with it. */
  endpoint: string;
  /** `service.name` of the spans. */
  serviceName: string;
  /** `service.instance.id` of the spans (the replica's instance id). */
  instanceId: string;
  /** Export somewhere else than OTLP, synchronously (tests). @defaultValue an OTLP/HTTP exporter, batched */
  exporter?: SpanExporter;
}

type Api = typeof OtelApi;

/**
 * An OpenTelemetry {@link GatewayTracer}. The SDK and exporter are imported here, on demand, so a
 * gateway with tracing off (the default) never loads them. Sampling is parent-based: a client that
 * sent `sampled=0` is not recorded; a request without a `traceparent` is.
 */
export async function createOtelTracer(options: OtelTracerOptions): Promise<GatewayTracer> {
  const api = await import('@opentelemetry/api');
  const sdk = await import('@opentelemetry/sdk-trace-base');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  let processor;
  if (options.exporter !== undefined) {
    processor = new sdk.SimpleSpanProcessor(options.exporter);
  } else {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    const url = options.endpoint.replace(/\/+$/, '');
    processor = new sdk.BatchSpanProcessor(
      new OTLPTraceExporter({ url: url.endsWith('/v1/traces') ? url : `${url}/v1/traces` }),
    );
  }
  const provider = new sdk.BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': options.serviceName,
      'service.instance.id': options.instanceId,
    }),
    spanProcessors: [processor],
  });
  const tracer = provider.getTracer('replygate');
  return {
    recording: true,
    startServer: (name, parent, attributes) =>
      startSpan(api, tracer, name, api.SpanKind.SERVER, parentContext(api, parent, true), attributes),
    startProducer: (name, parent, attributes) =>
      startSpan(api, tracer, name, api.SpanKind.PRODUCER, parentContext(api, parent, false), attributes),
    shutdown: () => provider.shutdown(),
  };
}

function parentContext(api: Api, parent: TraceContext | undefined, isRemote: boolean): Context {
  if (parent === undefined) return api.ROOT_CONTEXT;
  const spanContext: SpanContext = {
    traceId: parent.traceId,
    spanId: parent.spanId,
    traceFlags: parent.flags,
    isRemote,
  };
  if (parent.state !== undefined) spanContext.traceState = api.createTraceState(parent.state);
  return api.trace.setSpanContext(api.ROOT_CONTEXT, spanContext);
}

function startSpan(
  api: Api,
  tracer: Tracer,
  name: string,
  kind: number,
  parent: Context,
  attributes: SpanAttributes,
): GatewaySpan {
  const span: Span = tracer.startSpan(name, { kind, attributes }, parent);
  const sc = span.spanContext();
  const context: TraceContext = { traceId: sc.traceId, spanId: sc.spanId, flags: sc.traceFlags };
  const state = sc.traceState?.serialize();
  if (state !== undefined && state !== '') context.state = state;
  return {
    context,
    setAttributes: (more) => void span.setAttributes(more),
    end: (error) => {
      if (error === true) span.setStatus({ code: api.SpanStatusCode.ERROR });
      span.end();
    },
  };
}
