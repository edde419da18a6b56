/**
 * Round trips through the official OTLP serializers: real SDK spans, log records and metrics are encoded by
 * @opentelemetry/otlp-transformer (protobuf and JSON), decoded, and checked against values computed from the SDK
 * objects themselves, and protobuf vs JSON results must be deep-equal.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, ValueType, trace, type HrTime } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { TraceState } from '@opentelemetry/core';
import {
  JsonLogsSerializer,
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality,
  AggregationType,
  DataPointType,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { decodeJson, decodeProtobuf } from './decode.ts';
import { setAnyValueAttributes } from './test-sdk.ts';
import type { DecodedRequest } from './rows.ts';

const ns = (t: HrTime): string => (BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])).toString();

/** Every AnyValue kind the SDK can express, with the string the exporter stores for it (pdata AsString). */
const ATTRIBUTES = {
  'str': 'héllo ☃ 😀',
  'empty.str': '',
  'bool': true,
  'int': 42,
  'int.negative': -42,
  // The largest the JSON serializer writes exactly (it prints JS numbers); beyond 2^53: see decode-json.test.ts.
  'int.large': Number.MAX_SAFE_INTEGER,
  'double': 0.1,
  'double.small': 1.5e-7,
  'double.fraction': 123456789.125,
  'bytes': new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
  'array.str': ['a', 'b'],
  'array.mixed': [1, 'a', null, true, 1.5],
  'kvlist': { b: 1, a: 'x<y>&', nested: { z: [1, 2.5] }, raw: new Uint8Array([1, 2, 3]) },
  'null': null,
};
const ATTRIBUTE_STRINGS = {
  'str': 'héllo ☃ 😀',
  'empty.str': '',
  'bool': 'true',
  'int': '42',
  'int.negative': '-42',
  'int.large': '9007199254740991',
  'double': '0.1',
  'double.small': '1.5e-7',
  'double.fraction': '123456789.125',
  'bytes': '3q2+7w==',
  'array.str': '["a","b"]',
  'array.mixed': '[1,"a",null,true,1.5]',
  'kvlist': '{"a":"x\\u003cy\\u003e\\u0026","b":1,"nested":{"z":[1,2.5]},"raw":"AQID"}',
  'null': '',
};

const RESOURCE = resourceFromAttributes(
  {
    'service.name': 'checkout',
    'service.version': '1.4.2',
    'host.cpu.count': 8,
    'deployment.canary': false,
    'k8s.pod.name': 'checkout-7d9f8b6c5-x2k4p',
  },
  { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' },
);
const RESOURCE_STRINGS = {
  'service.name': 'checkout',
  'service.version': '1.4.2',
  'host.cpu.count': '8',
  'deployment.canary': 'false',
  'k8s.pod.name': 'checkout-7d9f8b6c5-x2k4p',
};

/** Decodes both encodings, checks they agree, returns the protobuf one. */
function decodeBoth(signal: 'traces' | 'logs' | 'metrics', proto: Uint8Array | undefined, json: Uint8Array | undefined) {
  expect(proto).toBeInstanceOf(Uint8Array);
  expect(json).toBeInstanceOf(Uint8Array);
  const fromProto = decodeProtobuf(signal, proto!);
  const fromJson = decodeJson(signal, json!);
  expect(fromJson).toStrictEqual(fromProto);
  // The string overload reads the same as the bytes.
  expect(decodeJson(signal, new TextDecoder().decode(json))).toStrictEqual(fromProto);
  return fromProto;
}

describe('traces from the SDK', () => {
  async function spans(): Promise<ReadableSpan[]> {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ resource: RESOURCE, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const tracer = provider.getTracer('checkout-instrumentation', '0.52.0');
    const remoteParent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
      isRemote: true,
      traceState: new TraceState('vendor=abc,other=x'),
    });
    const server = tracer.startSpan(
      'GET /cart',
      { kind: SpanKind.SERVER, startTime: [1_700_000_000, 123_456_789] },
      remoteParent,
    );
    setAnyValueAttributes(server, ATTRIBUTES);
    server.addEvent('cache.miss', { 'cache.key': 'cart:42', 'attempt': 2 }, [1_700_000_000, 223_456_789]);
    server.addEvent('no.attributes', undefined, [1_700_000_001, 5]);
    const client = tracer.startSpan(
      'SELECT carts',
      {
        kind: SpanKind.CLIENT,
        startTime: [1_700_000_000, 300_000_001],
        links: [
          {
            context: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 0 },
            attributes: { 'link.kind': 'follows', 'link.n': 1 },
          },
          { context: { traceId: '5bf92f3577b34da6a3ce929d0e0e4736', spanId: '10f067aa0ba902b7', traceFlags: 1 } },
        ],
      },
      trace.setSpan(ROOT_CONTEXT, server),
    );
    client.setStatus({ code: SpanStatusCode.ERROR, message: 'deadlock detected' });
    client.end([1_700_000_000, 900_000_000]);
    server.setStatus({ code: SpanStatusCode.OK });
    server.end([1_700_000_002, 987_654_321]);
    for (const kind of [SpanKind.INTERNAL, SpanKind.PRODUCER, SpanKind.CONSUMER]) {
      tracer.startSpan(`kind-${kind}`, { kind, startTime: [1_700_000_003, 0] }).end([1_700_000_003, 1]);
    }
    await provider.forceFlush();
    return exporter.getFinishedSpans();
  }

  it('decodes protobuf and JSON to the same rows, matching the SDK spans', async () => {
    const finished = await spans();
    const got = decodeBoth(
      'traces',
      ProtobufTraceSerializer.serializeRequest(finished),
      JsonTraceSerializer.serializeRequest(finished),
    );

    expect(got).toMatchObject({ signal: 'traces', accepted: 5, rejected: 0, rejectMessage: '' });
    const rows = got.tables.otel_traces!;
    expect(rows).toHaveLength(5);
    const byName = new Map(rows.map((r) => [r.SpanName, r]));
    const serverSpan = finished.find((s) => s.name === 'GET /cart')!;
    const clientSpan = finished.find((s) => s.name === 'SELECT carts')!;

    expect(byName.get('GET /cart')).toStrictEqual({
      Timestamp: '1700000000123456789',
      TraceId: '0af7651916cd43dd8448eb211c80319c',
      SpanId: serverSpan.spanContext().spanId,
      ParentSpanId: 'b7ad6b7169203331',
      TraceState: 'vendor=abc,other=x',
      SpanName: 'GET /cart',
      SpanKind: 'Server',
      ServiceName: 'checkout',
      ResourceAttributes: RESOURCE_STRINGS,
      ScopeName: 'checkout-instrumentation',
      ScopeVersion: '0.52.0',
      SpanAttributes: ATTRIBUTE_STRINGS,
      Duration: '2864197532',
      StatusCode: 'Ok',
      StatusMessage: '',
      'Events.Timestamp': ['1700000000223456789', '1700000001000000005'],
      'Events.Name': ['cache.miss', 'no.attributes'],
      'Events.Attributes': [{ 'cache.key': 'cart:42', 'attempt': '2' }, {}],
      'Links.TraceId': [],
      'Links.SpanId': [],
      'Links.TraceState': [],
      'Links.Attributes': [],
    });

    expect(byName.get('SELECT carts')).toMatchObject({
      Timestamp: ns(clientSpan.startTime),
      TraceId: '0af7651916cd43dd8448eb211c80319c',
      SpanId: clientSpan.spanContext().spanId,
      ParentSpanId: serverSpan.spanContext().spanId,
      SpanKind: 'Client',
      Duration: '599999999',
      StatusCode: 'Error',
      StatusMessage: 'deadlock detected',
      SpanAttributes: {},
      'Links.TraceId': ['4bf92f3577b34da6a3ce929d0e0e4736', '5bf92f3577b34da6a3ce929d0e0e4736'],
      'Links.SpanId': ['00f067aa0ba902b7', '10f067aa0ba902b7'],
      'Links.TraceState': ['', ''],
      'Links.Attributes': [{ 'link.kind': 'follows', 'link.n': '1' }, {}],
    });

    expect(rows.map((r) => r.SpanKind).sort()).toEqual(['Client', 'Consumer', 'Internal', 'Producer', 'Server']);
    expect(byName.get(`kind-${SpanKind.INTERNAL}`)).toMatchObject({ Duration: '1', StatusCode: 'Unset', ParentSpanId: '' });
    // Rows of one resource share its (frozen) attribute map.
    expect(rows[0]!.ResourceAttributes).toBe(rows[1]!.ResourceAttributes);
    expect(Object.isFrozen(rows[0]!.ResourceAttributes)).toBe(true);
  });

  it('decodes an empty export request to no rows', () => {
    const empty = { signal: 'traces', tables: {}, accepted: 0, rejected: 0, rejectMessage: '' };
    expect(decodeProtobuf('traces', new Uint8Array(0))).toStrictEqual(empty);
    expect(decodeJson('traces', '{}')).toStrictEqual(empty);
  });
});

describe('logs from the SDK', () => {
  it('decodes protobuf and JSON to the same rows, matching the SDK log records', async () => {
    const exporter = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({ resource: RESOURCE, processors: [new SimpleLogRecordProcessor({ exporter })] });
    const logger = provider.getLogger('payments', '2.0.1', {
      schemaUrl: 'https://opentelemetry.io/schemas/1.27.0',
      attributes: { 'scope.team': 'payments', 'scope.shard': 3 },
    });
    const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
    logger.emit({
      eventName: 'payment.declined',
      timestamp: [1_700_000_000, 111_222_333],
      observedTimestamp: [1_700_000_005, 444_555_666],
      severityNumber: SeverityNumber.WARN,
      severityText: 'WARN',
      body: 'card declined: insufficient funds',
      attributes: ATTRIBUTES,
      context: trace.setSpanContext(ROOT_CONTEXT, spanContext),
    });
    logger.emit({
      timestamp: [1_700_000_001, 1],
      body: { code: 51, reasons: ['funds', 'limit'], retry: false },
    });
    logger.emit({ timestamp: [1_700_000_002, 2], body: new Uint8Array([0, 255, 16]) });
    logger.emit({ timestamp: [1_700_000_003, 3] });
    await provider.forceFlush();
    const records = exporter.getFinishedLogRecords();

    const got = decodeBoth(
      'logs',
      ProtobufLogsSerializer.serializeRequest(records),
      JsonLogsSerializer.serializeRequest(records),
    );
    expect(got).toMatchObject({ signal: 'logs', accepted: 4, rejected: 0, rejectMessage: '' });
    const rows = got.tables.otel_logs!;
    expect(rows[0]).toStrictEqual({
      Timestamp: '1700000000111222333',
      TraceId: '0af7651916cd43dd8448eb211c80319c',
      SpanId: 'b7ad6b7169203331',
      TraceFlags: 1,
      SeverityText: 'WARN',
      SeverityNumber: 13,
      ServiceName: 'checkout',
      Body: 'card declined: insufficient funds',
      ResourceSchemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
      ResourceAttributes: RESOURCE_STRINGS,
      ScopeSchemaUrl: 'https://opentelemetry.io/schemas/1.27.0',
      ScopeName: 'payments',
      ScopeVersion: '2.0.1',
      ScopeAttributes: { 'scope.team': 'payments', 'scope.shard': '3' },
      LogAttributes: ATTRIBUTE_STRINGS,
      EventName: 'payment.declined',
    });
    expect(rows.slice(1).map((r) => [r.Timestamp, r.Body, r.TraceId, r.SpanId, r.TraceFlags, r.SeverityNumber])).toEqual([
      ['1700000001000000001', '{"code":51,"reasons":["funds","limit"],"retry":false}', '', '', 0, 0],
      ['1700000002000000002', 'AP8Q', '', '', 0, 0],
      ['1700000003000000003', '', '', '', 0, 0],
    ]);
    expect(rows.map((r) => r.Timestamp)).toEqual(records.map((r) => ns(r.hrTime)));
  });
});

describe('metrics from the SDK', () => {
  class CollectingReader extends MetricReader {
    protected override onForceFlush(): Promise<void> {
      return Promise.resolve();
    }
    protected override onShutdown(): Promise<void> {
      return Promise.resolve();
    }
  }

  async function collect(): Promise<ResourceMetrics> {
    const reader = new CollectingReader({
      aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE,
    });
    const provider = new MeterProvider({
      resource: RESOURCE,
      readers: [reader],
      views: [
        { instrumentName: 'latency.exp', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } },
        {
          instrumentName: 'latency',
          aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [0, 5, 10, 25] } },
        },
      ],
    });
    const meter = provider.getMeter('shop-metrics', '3.1.4');
    const requests = meter.createCounter('requests', { description: 'Requests served', unit: '{request}', valueType: ValueType.INT });
    requests.add(3, { route: '/cart', 'http.response.status_code': 200 });
    requests.add(2, { route: '/pay', 'http.response.status_code': 500 });
    meter.createUpDownCounter('queue.depth', { valueType: ValueType.INT }).add(-7, { queue: 'orders' });
    meter.createGauge('temperature', { unit: 'Cel' }).record(21.5, { room: 'server' });
    const latency = meter.createHistogram('latency', { unit: 'ms' });
    for (const v of [1, 3, 7, 12, 30, 0.5]) latency.record(v, { route: '/cart' });
    const exp = meter.createHistogram('latency.exp', { unit: 's' });
    // Histograms take no negative measurements, so negative buckets are covered by decode-proto.test.ts.
    for (const v of [0.001, 0.002, 0.5, 3, 0]) exp.record(v);
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    return resourceMetrics;
  }

  it('decodes protobuf and JSON to the same rows, one per data point, matching the SDK data', async () => {
    const rm = await collect();
    const got = decodeBoth(
      'metrics',
      ProtobufMetricsSerializer.serializeRequest(rm),
      JsonMetricsSerializer.serializeRequest(rm),
    );
    const points = rm.scopeMetrics.reduce((n, s) => n + s.metrics.reduce((k, m) => k + m.dataPoints.length, 0), 0);
    expect(points).toBe(6);
    expect(got).toMatchObject({ signal: 'metrics', accepted: points, rejected: 0, rejectMessage: '' });

    const metric = (name: string) => rm.scopeMetrics[0]!.metrics.find((m) => m.descriptor.name === name)!;
    const shared = {
      ResourceAttributes: RESOURCE_STRINGS,
      ResourceSchemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
      ScopeName: 'shop-metrics',
      ScopeVersion: '3.1.4',
      ScopeAttributes: {},
      ScopeDroppedAttrCount: 0,
      ScopeSchemaUrl: '',
      ServiceName: 'checkout',
      'Exemplars.FilteredAttributes': [],
      'Exemplars.TimeUnix': [],
      'Exemplars.Value': [],
      'Exemplars.SpanId': [],
      'Exemplars.TraceId': [],
    };

    const requests = metric('requests');
    expect(got.tables.otel_metrics_sum).toStrictEqual([
      ...requests.dataPoints.map((p) => ({
        ...shared,
        MetricName: 'requests',
        MetricDescription: 'Requests served',
        MetricUnit: '{request}',
        Attributes: { route: String(p.attributes['route']), 'http.response.status_code': String(p.attributes['http.response.status_code']) },
        StartTimeUnix: ns(p.startTime),
        TimeUnix: ns(p.endTime),
        Value: p.value as number,
        Flags: 0,
        AggregationTemporality: 2,
        IsMonotonic: true,
      })),
      {
        ...shared,
        MetricName: 'queue.depth',
        MetricDescription: '',
        MetricUnit: '',
        Attributes: { queue: 'orders' },
        StartTimeUnix: ns(metric('queue.depth').dataPoints[0]!.startTime),
        TimeUnix: ns(metric('queue.depth').dataPoints[0]!.endTime),
        Value: -7,
        Flags: 0,
        AggregationTemporality: 2,
        IsMonotonic: false,
      },
    ]);

    const gauge = metric('temperature').dataPoints[0]!;
    expect(got.tables.otel_metrics_gauge).toStrictEqual([
      {
        ...shared,
        MetricName: 'temperature',
        MetricDescription: '',
        MetricUnit: 'Cel',
        Attributes: { room: 'server' },
        StartTimeUnix: ns(gauge.startTime),
        TimeUnix: ns(gauge.endTime),
        Value: 21.5,
        Flags: 0,
      },
    ]);

    const hist = metric('latency');
    expect(hist.dataPointType).toBe(DataPointType.HISTOGRAM);
    const hp = hist.dataPoints[0]!;
    expect(got.tables.otel_metrics_histogram).toStrictEqual([
      {
        ...shared,
        MetricName: 'latency',
        MetricDescription: '',
        MetricUnit: 'ms',
        Attributes: { route: '/cart' },
        StartTimeUnix: ns(hp.startTime),
        TimeUnix: ns(hp.endTime),
        Count: '6',
        Sum: 53.5,
        BucketCounts: ['0', '3', '1', '1', '1'],
        ExplicitBounds: [0, 5, 10, 25],
        Flags: 0,
        Min: 0.5,
        Max: 30,
        AggregationTemporality: 2,
      },
    ]);

    const exp = metric('latency.exp');
    expect(exp.dataPointType).toBe(DataPointType.EXPONENTIAL_HISTOGRAM);
    const ep = exp.dataPoints[0]!;
    const ev = ep.value as {
      count: number;
      sum: number;
      scale: number;
      zeroCount: number;
      positive: { offset: number; bucketCounts: number[] };
      negative: { offset: number; bucketCounts: number[] };
    };
    expect(ev.positive.bucketCounts.length).toBeGreaterThan(1);
    expect(got.tables.otel_metrics_exponential_histogram).toStrictEqual([
      {
        ...shared,
        MetricName: 'latency.exp',
        MetricDescription: '',
        MetricUnit: 's',
        Attributes: {},
        StartTimeUnix: ns(ep.startTime),
        TimeUnix: ns(ep.endTime),
        Count: '5',
        Sum: ev.sum,
        Scale: ev.scale,
        ZeroCount: '1',
        PositiveOffset: ev.positive.offset,
        PositiveBucketCounts: ev.positive.bucketCounts.map(String),
        NegativeOffset: ev.negative.offset,
        NegativeBucketCounts: ev.negative.bucketCounts.map(String),
        Flags: 0,
        Min: 0,
        Max: 3,
        AggregationTemporality: 2,
      },
    ]);
    expect(got.tables.otel_metrics_summary).toBeUndefined();
  });
});

describe('decoded result shape', () => {
  it('lists only tables that have rows', () => {
    const r: DecodedRequest = decodeJson('metrics', '{"resourceMetrics":[]}');
    expect(r.tables).toStrictEqual({});
  });
});
