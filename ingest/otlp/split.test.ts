import { SpanKind } from '@opentelemetry/api';
import { ProtobufLogsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { decodeProtobuf } from './decode.ts';
import type { SpanRow } from './rows.ts';
import { splitRequest } from './split.ts';
import { bytes, concat, fixed64, hex, msg, strAttr, varint } from './test-pb.ts';

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

  it('keeps each trace whole when its spans are interleaved across resources and scopes, with unknown fields kept', () => {
    // Three traces whose spans alternate, in two resources of two scopes each; headers carry an unknown field
    // and a schema url, and one span is over 16 KiB so its length prefix takes three bytes.
    const traceIds = ['0af7651916cd43dd8448eb211c80319c', '4bf92f3577b34da6a3ce929d0e0e4736', '11111111111111111111111111111111'];
    const span = (t: number, n: number) =>
      msg(2, bytes(1, hex(traceIds[t]!)), bytes(2, hex(`00f067aa0ba902b${n}`)), bytes(5, n === 7 ? 'x'.repeat(20_000) : `op-${n}`), fixed64(7, 1_700_000_000_000_000_000n + BigInt(n)), fixed64(8, 1_700_000_000_000_000_100n + BigInt(n)));
    let n = 0;
    const scope = (name: string) => msg(2, msg(1, bytes(1, name)), varint(99, 7), ...[0, 1, 2, 0, 1].map((t) => span(t, n++ % 10)), bytes(3, 'https://schema/1'));
    const resource = (service: string) => msg(1, msg(1, strAttr(1, 'service.name', service)), scope('s1'), bytes(3, 'https://schema/r'), scope('s2'));
    const body = concat(resource('a'), resource('b'));
    const whole = decodeProtobuf('traces', body).tables.otel_traces!;
    const parts = splitRequest('traces', body);
    expect(parts.map((p) => p.key)).toEqual(traceIds);
    for (const p of parts) {
      const rows = decodeProtobuf('traces', p.value).tables.otel_traces!;
      // The trace's spans in request order, each with its own resource and scope.
      expect(rows).toEqual(whole.filter((r) => r.TraceId === p.key));
    }
  });

  it('gives spans without a trace id the empty key instead of failing', () => {
    const body = concat(msg(1, msg(2, msg(2, bytes(5, 'no-id')), msg(2, bytes(1, hex('0af7651916cd43dd8448eb211c80319c')), bytes(5, 'with-id')))));
    expect(splitRequest('traces', body).map((p) => p.key)).toEqual(['', '0af7651916cd43dd8448eb211c80319c']);
  });
});
