import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpanRow } from '#otlp/rows.ts';
import type { ServicesResponse } from '../contract.ts';
import { type Harness, nsAt, startHarness } from '../testing/harness.ts';

const T = 1_700_000_000_000;
const MS = 1_000_000n;

function span(i: number, p: Partial<SpanRow>): SpanRow {
  const id = i.toString(16).padStart(16, '0');
  return {
    Timestamp: nsAt(T + i * 1000),
    TraceId: id.padStart(32, '0'),
    SpanId: id,
    ParentSpanId: '',
    TraceState: '',
    SpanName: 'op',
    SpanKind: 'Server',
    ServiceName: 'api',
    ResourceAttributes: {},
    ScopeName: '',
    ScopeVersion: '',
    SpanAttributes: {},
    Duration: (1n * MS).toString(),
    StatusCode: 'Unset',
    StatusMessage: '',
    'Events.Timestamp': [],
    'Events.Name': [],
    'Events.Attributes': [],
    'Links.TraceId': [],
    'Links.SpanId': [],
    'Links.TraceState': [],
    'Links.Attributes': [],
    ...p,
  };
}

/**
 * api: 100 Server spans over 100 s taking 1…100 ms, every 20th an error; plus Client and Internal spans that
 * are not requests. worker: 10 Consumer spans (children of api's traces). cron: no entry spans, 4 root spans.
 */
const spans: SpanRow[] = [
  ...Array.from({ length: 100 }, (_, i) =>
    span(i, { Duration: (BigInt(i + 1) * MS).toString(), StatusCode: (i + 1) % 20 === 0 ? 'Error' : 'Ok', ParentSpanId: i % 2 ? 'ffffffffffffffff' : '' }),
  ),
  ...Array.from({ length: 50 }, (_, i) => span(1000 + i, { ParentSpanId: 'aaaaaaaaaaaaaaaa', SpanKind: 'Client', Duration: '999000000000' })),
  ...Array.from({ length: 10 }, (_, i) =>
    span(2000 + i, { ServiceName: 'worker', SpanKind: 'Consumer', ParentSpanId: 'bbbbbbbbbbbbbbbb', Duration: ((BigInt(i) + 1n) * 10n * MS).toString() }),
  ),
  ...Array.from({ length: 4 }, (_, i) => span(3000 + i, { ServiceName: 'cron', SpanKind: 'Internal', Duration: (1000n * MS).toString(), StatusCode: i === 0 ? 'Error' : 'Unset' })),
  span(4000, { ServiceName: 'cron', SpanKind: 'Internal', ParentSpanId: 'cccccccccccccccc', Duration: '1' }),
].map((s, i) => ({ ...s, Timestamp: nsAt(T + (i % 100) * 1000) })); // all inside [T, T + 100 s)

let h: Harness;

beforeAll(async () => {
  h = await startHarness('services');
  await h.insert('otel_traces', spans);
});
afterAll(async () => {
  await h.close();
});

describe('GET /api/v1/services', () => {
  it('gives request rate, error rate and latency quantiles from entry spans, or root spans without them', async () => {
    const r = await h.get<ServicesResponse>(`/api/v1/services?start=${T}&end=${T + 100_000}`);
    expect(r.status).toBe(200);
    const [api, cron, worker] = r.body.services;
    expect(r.body.services.map((s) => s.serviceName)).toEqual(['api', 'cron', 'worker']);
    // 100 requests in 100 s; 5 errors; durations 1…100 ms interpolate to 50.5, 95.05, 99.01 ms.
    expect(api).toMatchObject({ serviceName: 'api', source: 'entry', requests: 100, requestRate: 1, errors: 5, errorRate: 0.05 });
    expect(api!.latencyNano.p50).toBeCloseTo(50.5e6, 0);
    expect(api!.latencyNano.p95).toBeCloseTo(95.05e6, 0);
    expect(api!.latencyNano.p99).toBeCloseTo(99.01e6, 0);
    expect(worker).toMatchObject({ source: 'entry', requests: 10, errors: 0, errorRate: 0, requestRate: 0.1 });
    expect(worker!.latencyNano.p50).toBeCloseTo(55e6, 0);
    // cron has only Internal spans: its 4 root spans are its requests (the child span is not).
    expect(cron).toMatchObject({ source: 'root', requests: 4, errors: 1, errorRate: 0.25, latencyNano: { p50: 1e9, p95: 1e9, p99: 1e9 } });
  });

  it('filters by service and limits', async () => {
    const one = await h.get<ServicesResponse>(`/api/v1/services?start=${T}&end=${T + 100_000}&service=worker`);
    expect(one.body.services.map((s) => s.serviceName)).toEqual(['worker']);
    const two = await h.get<ServicesResponse>(`/api/v1/services?start=${T}&end=${T + 100_000}&limit=2`);
    expect(two.body.services).toHaveLength(2);
  });

  it('only counts spans inside the range', async () => {
    const r = await h.get<ServicesResponse>(`/api/v1/services?start=${T}&end=${T + 50_000}&service=api`);
    expect(r.body.services[0]).toMatchObject({ requests: 51, requestRate: 51 / 50 }); // spans at T … T + 50 s, both ends inclusive
  });
});
