import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { ProtobufLogsSerializer, ProtobufMetricsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { decodeProtobuf, validateProtobuf } from './decode.ts';
import type { Signal } from './rows.ts';

const resource = resourceFromAttributes({ 'service.name': 'checkout', 'k8s.pod.name': 'checkout-7d9f8c-x2x9', 'host.cpu.count': 4 });

function tracesBody(): Uint8Array {
  const exporter = new InMemorySpanExporter();
  const tracer = new TracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor({ exporter })] }).getTracer('shop', '1.2.3');
  for (let i = 0; i < 30; i++) {
    const span = tracer.startSpan(`GET /items/${i % 3}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200 + (i % 2), ok: i % 3 === 0, ratio: i / 7, tags: ['a', `b${i}`] },
      links: i % 5 === 0 ? [{ context: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 }, attributes: { why: 'retry' } }] : [],
    });
    if (i % 4 === 0) span.addEvent('cache.miss', { key: `item:${i}` });
    if (i % 6 === 0) span.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream failed' });
    span.end();
  }
  return ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!;
}

function logsBody(): Uint8Array {
  const exporter = new InMemoryLogRecordExporter();
  const logger = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter })] }).getLogger('app', '2.0.0');
  for (let i = 0; i < 30; i++) logger.emit({ body: i % 2 === 0 ? `order ${i} paid` : { order: i, items: [1, 2] }, severityText: 'INFO', severityNumber: 9, attributes: { 'user.id': `u${i}` } });
  return ProtobufLogsSerializer.serializeRequest(exporter.getFinishedLogRecords())!;
}

async function metricsBody(): Promise<Uint8Array> {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
  const meter = new MeterProvider({ resource, readers: [reader] }).getMeter('m');
  meter.createCounter('orders').add(3, { region: 'eu' });
  meter.createHistogram('latency').record(12.5, { route: '/pay' });
  await reader.forceFlush();
  return ProtobufMetricsSerializer.serializeRequest(exporter.getMetrics()[0]!)!;
}

/** What decodeProtobuf makes of a body: its counts, or its error message. */
function outcome(f: () => { accepted: number; rejected: number; rejectMessage: string }): string {
  try {
    const { accepted, rejected, rejectMessage } = f();
    return `ok ${accepted} ${rejected} ${rejectMessage}`;
  } catch (e) {
    return `error ${(e as Error).message}`;
  }
}

/** Deterministic mutations: flipped bytes, truncations, inserted bytes. */
function* mutations(body: Uint8Array, seed: number): Generator<Uint8Array> {
  let x = seed;
  const rand = (n: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x % n;
  };
  for (let i = 0; i < 400; i++) {
    const copy = Uint8Array.from(body);
    const kind = i % 3;
    if (kind === 0) {
      copy[rand(copy.length)] = rand(256);
      yield copy;
    } else if (kind === 1) yield copy.subarray(0, rand(copy.length));
    else {
      const at = rand(copy.length);
      yield Uint8Array.from([...copy.subarray(0, at), rand(256), ...copy.subarray(at)]);
    }
  }
}

describe('validateProtobuf', () => {
  it.each<[Signal, () => Uint8Array | Promise<Uint8Array>]>([
    ['traces', tracesBody],
    ['logs', logsBody],
    ['metrics', metricsBody],
  ])('accepts and rejects %s requests exactly as the full decoder does, with the same counts and errors', async (signal, build) => {
    const body = await build();
    expect(outcome(() => validateProtobuf(signal, body))).toBe(outcome(() => decodeProtobuf(signal, body)));
    let rejected = 0;
    for (const mutated of mutations(body, 7)) {
      const full = outcome(() => decodeProtobuf(signal, mutated));
      expect(outcome(() => validateProtobuf(signal, mutated))).toBe(full);
      if (full.startsWith('error')) rejected++;
    }
    // The mutations must exercise both sides: some requests still decode, many do not.
    expect(rejected).toBeGreaterThan(100);
    expect(rejected).toBeLessThan(400);
  });

  it('leaves the shared attribute cache alone: a decode after a validation still sees every string', () => {
    const body = tracesBody();
    const before = decodeProtobuf('traces', body).tables.otel_traces!;
    // Fresh bytes for the same attributes, validated first, so any cache entry they made would be hit next.
    const again = tracesBody();
    validateProtobuf('traces', again);
    const after = decodeProtobuf('traces', again).tables.otel_traces!;
    expect(after.map((s) => s.SpanAttributes)).toEqual(before.map((s) => s.SpanAttributes));
    expect(after.every((s) => s.SpanAttributes['http.request.method'] === 'GET' && s.ServiceName === 'checkout')).toBe(true);
  });
});
