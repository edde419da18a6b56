/**
 * The descriptor against the official serializers: every field they write must be in descriptor.ts with the wire type
 * it declares, message by message down the tree; and the derived tag tables against hand-computed tags.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { ProtobufLogsSerializer, ProtobufMetricsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality,
  AggregationType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import {
  HistogramDataPoint,
  SIGNALS,
  Span,
  elementTags,
  known,
  levelTags,
  scalarWireType,
  tags,
  wireType,
  type Message,
} from './descriptor.ts';
import { setAnyValueAttributes } from './test-sdk.ts';
import { LEN, Reader } from './wire.ts';

const resource = resourceFromAttributes({ 'service.name': 'descriptor', 'host.cpu': 4, ratio: 0.5, ok: true, tags: ['a', 'b'] });

function traces(): Uint8Array {
  const exporter = new InMemorySpanExporter();
  const tracer = new TracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor({ exporter })] }).getTracer('t', '1.0');
  const link = { context: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 }, attributes: { why: 'retry' } };
  const span = tracer.startSpan('op', { kind: SpanKind.CLIENT, attributes: { n: 1, d: 2.5, b: false, s: 'x' }, links: [link] });
  setAnyValueAttributes(span, { bytes: new Uint8Array([1, 2]), map: { k: 'v', nested: [1, 'two'] } });
  span.addEvent('ev', { k: 'v' });
  span.setStatus({ code: SpanStatusCode.ERROR, message: 'bad' });
  span.end();
  return ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!;
}

function logs(): Uint8Array {
  const exporter = new InMemoryLogRecordExporter();
  const logger = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter })] }).getLogger('l', '2.0');
  logger.emit({
    timestamp: [1_700_000_000, 1],
    severityNumber: 17,
    severityText: 'ERROR',
    body: { nested: ['x', 1] },
    attributes: { n: 1 },
    eventName: 'app.event',
  });
  return ProtobufLogsSerializer.serializeRequest(exporter.getFinishedLogRecords())!;
}

async function metrics(): Promise<Uint8Array> {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 1_000_000 });
  const mp = new MeterProvider({
    resource,
    readers: [reader],
    views: [{ instrumentName: 'expo', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  const m = mp.getMeter('m', '3.0');
  m.createCounter('c', { unit: 'By', description: 'bytes' }).add(5, { k: 'v' });
  m.createUpDownCounter('u').add(-3);
  m.createGauge('g').record(1.5);
  m.createHistogram('h').record(12);
  const expo = m.createHistogram('expo');
  for (const v of [0, 0.5, 3, 100]) expo.record(v);
  await reader.forceFlush();
  const body = ProtobufMetricsSerializer.serializeRequest(exporter.getMetrics()[0]!)!;
  await mp.shutdown();
  return body;
}

/**
 * Walks `body` as message `m`, recursing into message fields; returns the `Message.field` names seen. Fails on a field
 * the descriptor does not know or a wire type it does not declare.
 */
function walk(m: Message, name: string, body: Uint8Array, seen: Set<string>): void {
  const r = new Reader(body);
  const byNo = new Map(Object.entries(m).map(([field, f]) => [f.no, [field, f] as const]));
  while (r.pos < body.length) {
    const tag = r.tag();
    const entry = byNo.get(tag >>> 3);
    expect(entry, `${name}: field ${tag >>> 3} is not in the descriptor`).toBeDefined();
    const [field, f] = entry!;
    const wt = tag & 7;
    // A packed field may also arrive unpacked, one element per field.
    expect([wireType(f), scalarWireType(f.type)], `${name}.${field}: wire type ${wt}`).toContain(wt);
    seen.add(`${name}.${field}`);
    if (typeof f.type !== 'string' && 'message' in f.type) {
      const end = r.lenEnd(body.length);
      walk(f.type.message(), field, body.subarray(r.pos, end), seen);
      r.pos = end;
    } else r.skip(tag, body.length, 0);
  }
}

describe('descriptor', () => {
  it('knows every field the official serializers write, with its wire type', async () => {
    const seen = new Set<string>();
    walk(SIGNALS.traces.request, 'request', traces(), seen);
    walk(SIGNALS.logs.request, 'request', logs(), seen);
    walk(SIGNALS.metrics.request, 'request', await metrics(), seen);
    // The walk covered the whole tree, not only the top: a sample from each level and kind.
    for (const f of [
      'request.resourceSpans',
      'resource.attributes',
      'value.arrayValue',
      'value.kvlistValue',
      'value.bytesValue',
      'spans.events',
      'links.traceId',
      'status.code',
      'logRecords.body',
      'logRecords.eventName',
      'metrics.sum',
      'sum.isMonotonic',
      'dataPoints.explicitBounds',
      'positive.bucketCounts',
      'positive.offset',
    ]) {
      expect(seen, f).toContain(f);
    }
  });

  it('derives tags as the wire format writes them, packed fields in both forms', () => {
    expect(tags(Span).traceId).toBe(10); // 1, LEN
    expect(tags(Span).kind).toBe(48); // 6, VARINT
    expect(tags(Span).startTimeUnixNano).toBe(57); // 7, I64
    expect(tags(Span).flags).toBe(133); // 16, I32
    expect(tags(HistogramDataPoint).bucketCounts).toBe(50); // 6, packed
    expect(elementTags(HistogramDataPoint).bucketCounts).toBe(49); // 6, one fixed64
    expect(known(HistogramDataPoint)[7]).toStrictEqual(['explicitBounds', LEN]);
    expect(known(HistogramDataPoint)[1]).toBeUndefined();
  });

  it('gives every signal the same three levels (one walker serves them all)', () => {
    const expected = { resources: 10, resource: 10, scopes: 18, resourceSchemaUrl: 26, scope: 10, items: 18, scopeSchemaUrl: 26 };
    for (const shape of Object.values(SIGNALS)) expect(levelTags(shape)).toStrictEqual(expected);
  });

  it('numbers each field of a message once', () => {
    const messages = new Set<Message>();
    const collect = (m: Message) => {
      if (messages.has(m)) return;
      messages.add(m);
      for (const f of Object.values(m)) if (typeof f.type !== 'string' && 'message' in f.type) collect(f.type.message());
    };
    for (const shape of Object.values(SIGNALS)) collect(shape.request);
    expect(messages.size).toBeGreaterThan(25);
    for (const m of messages) {
      const numbers = Object.values(m).map((f) => f.no);
      expect(new Set(numbers).size).toBe(numbers.length);
    }
  });
});
