/**
 * JSON → protobuf transcoding is checked against the official serializers: the same SDK data serialized as
 * OTLP/JSON and transcoded must decode exactly like the official protobuf serialization.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { JsonLogsSerializer, JsonMetricsSerializer, JsonTraceSerializer, ProtobufLogsSerializer, ProtobufMetricsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { AggregationTemporality, AggregationType, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { decodeJson, decodeProtobuf } from './decode.ts';
import { bytes, msg } from './test-pb.ts';
import { toProtobuf } from './to-protobuf.ts';

const resource = resourceFromAttributes({ 'service.name': 'transcode', 'host.cpu': 4, big: 9_007_199_254_740_000 });

describe('toProtobuf', () => {
  it('traces: JSON transcoded decodes like the official protobuf', () => {
    const exporter = new InMemorySpanExporter();
    const tp = new TracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const t = tp.getTracer('scope', '9.9');
    const s = t.startSpan('op', { kind: SpanKind.CONSUMER, startTime: [1_700_000_000, 5], attributes: { a: [1, 2], b: 'x', c: 2.5, d: true } });
    s.addEvent('ev', { k: 'v' }, [1_700_000_000, 7]);
    s.setStatus({ code: SpanStatusCode.ERROR, message: 'bad' });
    s.end([1_700_000_001, 9]);
    const spans = exporter.getFinishedSpans();
    const json = JsonTraceSerializer.serializeRequest(spans)!;
    const proto = ProtobufTraceSerializer.serializeRequest(spans)!;
    const fromJson = decodeProtobuf('traces', toProtobuf('traces', json));
    expect(fromJson.accepted).toBe(1);
    expect(fromJson).toEqual(decodeProtobuf('traces', proto));
  });

  it('logs: JSON transcoded decodes like the official protobuf', () => {
    const exporter = new InMemoryLogRecordExporter();
    const lp = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter })] });
    lp.getLogger('l').emit({ timestamp: [1_700_000_000, 11], severityNumber: 17, severityText: 'ERROR', body: { nested: ['x', 1] }, attributes: { n: 1 } });
    const records = exporter.getFinishedLogRecords();
    const json = JsonLogsSerializer.serializeRequest(records)!;
    const proto = ProtobufLogsSerializer.serializeRequest(records)!;
    const fromJson = decodeProtobuf('logs', toProtobuf('logs', json));
    expect(fromJson.accepted).toBe(1);
    expect(fromJson).toEqual(decodeProtobuf('logs', proto));
  });

  it('metrics: JSON transcoded decodes like the official protobuf (sum, gauge, histogram, exponential histogram)', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 1_000_000 });
    const mp = new MeterProvider({
      resource,
      readers: [reader],
      views: [{ instrumentName: 'expo', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
    });
    const m = mp.getMeter('m');
    m.createCounter('c').add(5, { k: 'v' });
    m.createUpDownCounter('u').add(-3);
    m.createGauge('g').record(1.5);
    m.createHistogram('h').record(12);
    const expo = m.createHistogram('expo');
    for (const v of [0.5, 3, 3, 100]) expo.record(v);
    await reader.forceFlush();
    const [rm] = exporter.getMetrics();
    const json = JsonMetricsSerializer.serializeRequest(rm!)!;
    const proto = ProtobufMetricsSerializer.serializeRequest(rm!)!;
    const fromJson = decodeProtobuf('metrics', toProtobuf('metrics', json));
    expect(fromJson).toEqual(decodeProtobuf('metrics', proto));
    expect(fromJson.accepted).toBe(5);
    await mp.shutdown();
  });

  it('keeps resource entity refs, which the protobuf path forwards too', () => {
    const json = JSON.stringify({ resourceSpans: [{ resource: { entityRefs: [{ type: 'service', idKeys: ['service.name'] }] } }] });
    // ExportTraceServiceRequest.resource_spans 1 → ResourceSpans.resource 1 → Resource.entity_refs 3 → EntityRef.type 2, id_keys 3.
    const expected = msg(1, msg(1, msg(3, bytes(2, 'service'), bytes(3, 'service.name'))));
    expect(toProtobuf('traces', json)).toStrictEqual(expected);
  });

  it('ignores unknown keys named like Object.prototype members (regression: it threw on `constructor`)', () => {
    const span = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name: 'op' };
    const plain = JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] });
    const odd = JSON.stringify({
      resourceSpans: [{ scopeSpans: [{ spans: [{ ...span, constructor: 1, toString: 'x', hasOwnProperty: [] }] }], valueOf: {} }],
    });
    expect(decodeJson('traces', odd)).toEqual(decodeJson('traces', plain));
    expect(toProtobuf('traces', odd)).toStrictEqual(toProtobuf('traces', plain));
  });
});
