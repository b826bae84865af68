import { childContext, type TraceContext } from '../protocol/trace-context';

/** Span attributes, as OpenTelemetry takes them. */
export type SpanAttributes = Record<string, string | number | boolean>;

/** One span the gateway opened: its ids, for the headers it sends on. */
export interface GatewaySpan {
  /** This span's trace context: what goes into the `traceparent` the next hop sees. */
  readonly context: TraceContext;
  setAttributes(attributes: SpanAttributes): void;
  /** End the span; `error` marks it failed. */
  end(error?: boolean): void;
}

/**
 * The gateway's tracing boundary: the server span of an HTTP request and the producer span of its
 * publish. {@link noopTracer} only continues the ids (the default); the OpenTelemetry tracer
 * (`createOtelTracer`, loaded only when REPLYGATE_OTEL_ENABLED) also records and exports spans.
 */
export interface GatewayTracer {
  /** Whether spans are recorded and exported. */
  readonly recording: boolean;
  /** Start the server span of one HTTP request, child of the client's trace when it sent one. */
  startServer(name: string, parent: TraceContext | undefined, attributes: SpanAttributes): GatewaySpan;
  /** Start the producer span of one publish, child of the request's server span. */
  startProducer(name: string, parent: TraceContext, attributes: SpanAttributes): GatewaySpan;
  /** Flush and stop exporting. */
  shutdown(): Promise<void>;
}

class IdOnlySpan implements GatewaySpan {
  constructor(readonly context: TraceContext) {}
  setAttributes(): void {}
  end(): void {}
}

/** Continues W3C trace ids hop by hop and records nothing. */
export const noopTracer: GatewayTracer = {
  recording: false,
  startServer: (_name, parent) => new IdOnlySpan(childContext(parent)),
  startProducer: (_name, parent) => new IdOnlySpan(childContext(parent)),
  shutdown: () => Promise.resolve(),
};

/**
 * A {@link GatewayTracer} whose implementation is chosen after construction: the HTTP handler is
 * built before start-up has loaded the OpenTelemetry SDK, so it holds this and the SDK is swapped
 * in by {@link TracerSlot.use}.
 */
export class TracerSlot implements GatewayTracer {
  private impl: GatewayTracer = noopTracer;

  get recording(): boolean {
    return this.impl.recording;
  }

  use(tracer: GatewayTracer): void {
    this.impl = tracer;
  }

  startServer(name: string, parent: TraceContext | undefined, attributes: SpanAttributes): GatewaySpan {
    return this.impl.startServer(name, parent, attributes);
  }

  startProducer(name: string, parent: TraceContext, attributes: SpanAttributes): GatewaySpan {
    return this.impl.startProducer(name, parent, attributes);
  }

  shutdown(): Promise<void> {
    const impl = this.impl;
    this.impl = noopTracer;
    return impl.shutdown();
  }
}
