import { expect } from 'chai';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { createOtelTracer } from '../../../src/observability/otel-tracer';
import { TracingPublisher } from '../../../src/observability/tracing-publisher';
import { parseTraceparent } from '../../../src/protocol/trace-context';
import type { OutgoingRequest, RequestPublisher } from '../../../src/protocol/outgoing-request';

describe('OpenTelemetry tracer (loaded on demand)', () => {
  it('records a server span continuing the client trace and a producer span under it', async () => {
    const exporter = new InMemorySpanExporter();
    const tracer = await createOtelTracer({
      endpoint: 'http://127.0.0.1:4318',
      serviceName: 'replygate-test',
      instanceId: 'rg-t',
      exporter,
    });
    const client = parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')!;
    const server = tracer.startServer('POST', client, { 'http.request.method': 'POST' });
    expect(server.context.traceId).to.equal(client.traceId);

    const sent: OutgoingRequest[] = [];
    const inner: RequestPublisher = {
      connected: true,
      connect: () => Promise.resolve(),
      disconnect: () => Promise.resolve(),
      publish: (r) => {
        sent.push(r);
        return Promise.resolve();
      },
    };
    const publisher = new TracingPublisher(inner, tracer);
    await publisher.publish({ topic: 'orders', correlationId: 'c', trace: server.context } as OutgoingRequest);
    server.setAttributes({ 'http.response.status_code': 200 });
    server.end();

    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).to.deep.equal(['orders publish', 'POST']);
    const [producer, serverSpan] = spans;
    expect(serverSpan!.parentSpanContext?.spanId).to.equal(client.spanId);
    expect(producer!.parentSpanContext?.spanId).to.equal(server.context.spanId);
    expect(producer!.spanContext().traceId).to.equal(client.traceId);
    // The request goes to Kafka carrying the producer span as its parent.
    expect(sent[0]!.trace!.spanId).to.equal(producer!.spanContext().spanId);
    expect(serverSpan!.resource.attributes['service.name']).to.equal('replygate-test');
    await tracer.shutdown();
  });
});
