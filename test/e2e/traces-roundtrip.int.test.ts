/**
 * Spans sent by the official OpenTelemetry JS exporters (OTLP http/json, http/protobuf and gRPC) come back
 * through the query API exactly: ids, nanosecond timestamps, attributes of every type, resource and scope,
 * events, links and status.
 */
import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestPlatform, getJson, startTestPlatform } from '../support/platform.ts';

let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(async () => {
  await platform?.stop();
});

const ATTRS: Attributes = {
  'str': 'hello "world" ✓',
  'bool.true': true,
  'bool.false': false,
  'int': 42,
  'int.negative': -7,
  'double': 3.25,
  'double.tiny': 0.1,
  'array.str': ['a', 'b'],
  'array.int': [1, 2, 3],
  'array.bool': [true, false],
};
// The exporter-compatible string form of each value (what the otel_* tables hold).
const ATTRS_STORED: Record<string, string> = {
  'str': 'hello "world" ✓',
  'bool.true': 'true',
  'bool.false': 'false',
  'int': '42',
  'int.negative': '-7',
  'double': '3.25',
  'double.tiny': '0.1',
  'array.str': '["a","b"]',
  'array.int': '[1,2,3]',
  'array.bool': '[true,false]',
};

function provider(service: string, exporter: SpanExporter) {
  return new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'k8s.namespace.name': 'shop', 'host.cpu.count': 8 }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
}

const exporters: [string, (url: string) => SpanExporter][] = [
  ['http/json', (u) => new JsonExporter({ url: `${u}/v1/traces` })],
  ['http/protobuf', (u) => new ProtoExporter({ url: `${u}/v1/traces` })],
  ['grpc', (u) => new GrpcExporter({ url: u })],
];

describe.each(exporters)('traces over OTLP %s', (protocol, make) => {
  it('round-trip exactly through GET /api/v1/traces/{traceId}', async () => {
    const service = `svc-${protocol.replace('/', '-')}`;
    const tp = provider(service, make(protocol === 'grpc' ? platform.grpcUrl : platform.otlpHttpUrl));
    const tracer = tp.getTracer('roundtrip-scope', '1.2.3');
    // Recent (older data would already be past the retention TTL and dropped on insert); non-zero
    // nanoseconds catch any millisecond rounding.
    const S = Math.floor(Date.now() / 1000) - 3600;
    const ns = (sec: number, nanos: number) => (BigInt(sec) * 1_000_000_000n + BigInt(nanos)).toString();
    const start: [number, number] = [S, 123_456_789];
    const root = tracer.startSpan('GET /checkout', { kind: SpanKind.SERVER, startTime: start, attributes: ATTRS });
    root.addEvent('cache.miss', { key: 'cart:1', attempt: 2 }, [S, 223_456_789]);
    root.setStatus({ code: SpanStatusCode.ERROR, message: 'payment declined' });
    const rootCtx = root.spanContext();
    const { trace, context } = await import('@opentelemetry/api');
    const child = tracer.startSpan(
      'SELECT orders',
      {
        kind: SpanKind.CLIENT,
        startTime: [S, 323_456_789],
        links: [{ context: { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), traceFlags: 1 }, attributes: { reason: 'retry' } }],
      },
      trace.setSpan(context.active(), root),
    );
    child.setStatus({ code: SpanStatusCode.OK });
    child.end([S, 423_456_790]);
    root.end([S + 1, 23_456_789]);
    await tp.forceFlush();
    await tp.shutdown();
    await platform.inserted();

    const { status, body } = await getJson(`${platform.apiUrl}/api/v1/traces/${rootCtx.traceId}`);
    expect(status).toBe(200);
    const spans: any[] = body.spans;
    expect(spans).toHaveLength(2);
    const r = spans.find((s) => s.spanId === rootCtx.spanId);
    const c = spans.find((s) => s.spanId !== rootCtx.spanId);
    expect(r).toMatchObject({
      traceId: rootCtx.traceId,
      parentSpanId: '',
      name: 'GET /checkout',
      kind: 'Server',
      serviceName: service,
      startTimeUnixNano: ns(S, 123_456_789),
      durationNano: '900000000',
      status: { code: 'Error', message: 'payment declined' },
      scope: { name: 'roundtrip-scope', version: '1.2.3' },
    });
    expect(r.attributes).toEqual(ATTRS_STORED);
    expect(r.resource.attributes).toMatchObject({ 'service.name': service, 'k8s.namespace.name': 'shop', 'host.cpu.count': '8' });
    expect(r.events).toEqual([{ timeUnixNano: ns(S, 223_456_789), name: 'cache.miss', attributes: { key: 'cart:1', attempt: '2' } }]);
    expect(c).toMatchObject({
      traceId: rootCtx.traceId,
      parentSpanId: rootCtx.spanId,
      kind: 'Client',
      startTimeUnixNano: ns(S, 323_456_789),
      durationNano: '100000001',
      status: { code: 'Ok' },
    });
    expect(c.links).toEqual([{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), traceState: '', attributes: { reason: 'retry' } }]);
    expect(c.spanId).toMatch(/^[0-9a-f]{16}$/);
  });
});
