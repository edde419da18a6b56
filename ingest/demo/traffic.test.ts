/**
 * Traffic through the real SDK with in-memory exporters (the SDK's own, for tests): what the pods emit for
 * planned requests, checked on the spans, log records and metrics the exporters received.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { AggregationTemporality, DataPointType, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seeded } from './random.ts';
import type { PodSdk } from './sdk.ts';
import { placePods } from './topology.ts';
import { Traffic } from './traffic.ts';

const spans = new InMemorySpanExporter();
const logs = new InMemoryLogRecordExporter();
const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const readers: PeriodicExportingMetricReader[] = [];
let traffic: Traffic;

beforeAll(() => {
  const pods = placePods(seeded(11));
  const sdks: PodSdk[] = pods.map((pod) => {
    const resource = resourceFromAttributes(pod.resource);
    const tp = new TracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
    const lp = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: logs })] });
    const reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 3_600_000 });
    readers.push(reader);
    const mp = new MeterProvider({ resource, readers: [reader] });
    return { pod, tracer: tp.getTracer('t'), logger: lp.getLogger('t'), meter: mp.getMeter('t'), shutdown: () => Promise.all([tp.shutdown(), lp.shutdown(), mp.shutdown()]).then(() => undefined) };
  });
  const started = Date.now() - 40_000; // inside the first incident
  traffic = new Traffic(sdks, seeded(5), 0, started);
  for (let i = 0; i < 300; i++) traffic.arrive(Date.now());
  traffic.flushPending();
});

afterAll(async () => {
  for (const r of readers) await r.shutdown();
});

const all = () => spans.getFinishedSpans();
const parentId = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe('Traffic', () => {
  it('emits every request it holds at a flush, and counts requests, spans and logs', () => {
    expect(traffic.stats.requests).toBe(300);
    expect(traffic.stats.spans).toBe(all().length);
    expect(traffic.stats.logs).toBe(logs.getFinishedLogRecords().length);
    expect(traffic.stats.dropped).toBe(0);
  });

  it('keeps each trace whole: every parent is a span of the same trace, one root per request', () => {
    const byId = new Map(all().map((s) => [s.spanContext().spanId, s]));
    const roots = all().filter((s) => parentId(s) === undefined);
    expect(roots).toHaveLength(300);
    for (const s of all()) {
      const p = parentId(s);
      if (p === undefined) continue;
      expect(byId.get(p)?.spanContext().traceId).toBe(s.spanContext().traceId);
    }
  });

  it('crosses services only from a client or producer span to a server or consumer span of another service', () => {
    const byId = new Map(all().map((s) => [s.spanContext().spanId, s]));
    const service = (s: ReadableSpan) => s.resource.attributes['service.name'];
    let crossings = 0;
    for (const s of all()) {
      const parent = byId.get(parentId(s) ?? '');
      if (!parent || service(parent) === service(s)) continue;
      crossings++;
      expect([SpanKind.CLIENT, SpanKind.PRODUCER]).toContain(parent.kind);
      expect([SpanKind.SERVER, SpanKind.CONSUMER]).toContain(s.kind);
    }
    expect(crossings).toBeGreaterThan(300);
  });

  it('runs a step and its own children on one pod of its service', () => {
    const byId = new Map(all().map((s) => [s.spanContext().spanId, s]));
    for (const s of all()) {
      expect(String(s.resource.attributes['k8s.pod.name'])).toMatch(new RegExp(`^${String(s.resource.attributes['service.name'])}-`));
      const parent = byId.get(parentId(s) ?? '');
      if (parent && parent.resource.attributes['service.name'] === s.resource.attributes['service.name']) {
        expect(s.resource.attributes['k8s.pod.name']).toBe(parent.resource.attributes['k8s.pod.name']);
      }
    }
  });

  it('puts the span context on every log record, from the pod that ran the span', () => {
    const byId = new Map(all().map((s) => [s.spanContext().spanId, s]));
    const records = logs.getFinishedLogRecords();
    expect(records.length).toBeGreaterThan(300);
    for (const l of records) {
      const span = byId.get(l.spanContext?.spanId ?? '');
      expect(span?.spanContext().traceId).toBe(l.spanContext?.traceId);
      expect(l.resource.attributes['k8s.pod.name']).toBe(span?.resource.attributes['k8s.pod.name']);
    }
  });

  it('records errors as span status and an exception event', () => {
    const failed = all().filter((s) => s.status.code === SpanStatusCode.ERROR);
    expect(failed.length).toBeGreaterThan(0);
    for (const s of failed) expect(s.events.map((e) => e.name)).toContain('exception');
  });

  it('records the request-duration histogram and the messaging counters', async () => {
    for (const r of readers) await r.forceFlush();
    const names = new Map<string, DataPointType>();
    for (const rm of metrics.getMetrics()) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) names.set(m.descriptor.name, m.dataPointType);
    expect(names.get('http.server.request.duration')).toBe(DataPointType.HISTOGRAM);
    expect(names.get('db.client.operation.duration')).toBe(DataPointType.HISTOGRAM);
    expect(names.get('messaging.client.sent.messages')).toBe(DataPointType.SUM);
    expect(names.get('messaging.kafka.consumer.lag')).toBe(DataPointType.GAUGE);
  });
});
