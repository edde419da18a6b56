import { SpanKind } from '@opentelemetry/api';
import { ProtobufLogsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { decodeProtobuf } from './decode.ts';
import type { SpanRow } from './rows.ts';
import { splitRequest } from './split.ts';

function traces() {
  const spans = [];
  for (const service of ['a', 'b']) {
    const exporter = new InMemorySpanExporter();
    const tp = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': service }), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    for (const scope of ['s1', 's2']) {
      const tracer = tp.getTracer(scope, '1');
      for (let t = 0; t < 3; t++) {
        const root = tracer.startSpan(`root-${t}`, { kind: SpanKind.SERVER });
        root.end();
      }
    }
    spans.push(...exporter.getFinishedSpans());
  }
  return spans;
}

const sortRows = (rows: SpanRow[]) => [...rows].sort((x, y) => x.SpanId.localeCompare(y.SpanId));

describe('splitRequest', () => {
  it('splits traces into one message per trace id, losing and adding nothing', () => {
    const body = ProtobufTraceSerializer.serializeRequest(traces())!;
    const whole = decodeProtobuf('traces', body);
    const parts = splitRequest('traces', body);
    expect(parts).toHaveLength(12);
    const rows: SpanRow[] = [];
    for (const p of parts) {
      const d = decodeProtobuf('traces', p.value);
      const ids = new Set(d.tables.otel_traces!.map((s) => s.TraceId));
      expect([...ids]).toEqual([p.key]);
      rows.push(...d.tables.otel_traces!);
    }
    // Resource and scope travel with every span: rows are identical, only their grouping changed.
    expect(sortRows(rows)).toEqual(sortRows(whole.tables.otel_traces!));
  });

  it('returns a single-key request unchanged', () => {
    const exporter = new InMemorySpanExporter();
    const tp = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    tp.getTracer('t').startSpan('only').end();
    const body = ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!;
    const [one, ...rest] = splitRequest('traces', body);
    expect(rest).toEqual([]);
    expect(one!.value).toBe(body);
  });

  it('splits logs by service.name', () => {
    const records = [];
    for (const service of ['checkout', 'cart', 'checkout-2']) {
      const exporter = new InMemoryLogRecordExporter();
      const lp = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': service }), processors: [new SimpleLogRecordProcessor({ exporter })] });
      lp.getLogger('l').emit({ body: `hello from ${service}` });
      lp.getLogger('l').emit({ body: `bye from ${service}` });
      records.push(...exporter.getFinishedLogRecords());
    }
    const body = ProtobufLogsSerializer.serializeRequest(records)!;
    const parts = splitRequest('logs', body);
    expect(parts.map((p) => p.key)).toEqual(['checkout', 'cart', 'checkout-2']);
    for (const p of parts) {
      const logs = decodeProtobuf('logs', p.value).tables.otel_logs!;
      expect(logs.map((l) => l.Body)).toEqual([`hello from ${p.key}`, `bye from ${p.key}`]);
      expect(logs.every((l) => l.ServiceName === p.key)).toBe(true);
    }
  });
});
