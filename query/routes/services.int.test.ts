import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpanRow } from '#otlp/rows.ts';
import type { OperationsResponse, ServiceSeriesResponse, ServicesResponse } from '../contract.ts';
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
    span(i, {
      Duration: (BigInt(i + 1) * MS).toString(),
      StatusCode: (i + 1) % 20 === 0 ? 'Error' : 'Ok',
      ParentSpanId: i % 2 ? 'ffffffffffffffff' : '',
      SpanName: i < 60 ? 'GET /a' : 'POST /b',
      ResourceAttributes: i % 2 ? { 'k8s.namespace.name': 'shop-canary', 'deployment.environment': 'staging' } : { 'k8s.namespace.name': 'shop', 'deployment.environment.name': 'prod' },
    }),
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

describe('GET /api/v1/services with resource filters', () => {
  it('lists the namespaces and environments of each service', async () => {
    const r = await h.get<ServicesResponse>(`/api/v1/services?start=${T}&end=${T + 100_000}&service=api`);
    expect(r.body.services[0]).toMatchObject({ namespaces: ['shop', 'shop-canary'], environments: ['prod', 'staging'] });
    const w = await h.get<ServicesResponse>(`/api/v1/services?start=${T}&end=${T + 100_000}&service=worker`);
    expect(w.body.services[0]).toMatchObject({ namespaces: [], environments: [] });
  });

  it('counts only requests from the namespace or environment asked for (either attribute name)', async () => {
    const ns = await h.get<ServicesResponse>(`/api/v1/services?start=${T}&end=${T + 100_000}&namespace=shop`);
    expect(ns.body.services.map((s) => s.serviceName)).toEqual(['api']);
    expect(ns.body.services[0]).toMatchObject({ requests: 50, namespaces: ['shop'] });
    const env = await h.get<ServicesResponse>(`/api/v1/services?start=${T}&end=${T + 100_000}&environment=staging`);
    expect(env.body.services[0]).toMatchObject({ serviceName: 'api', requests: 50, environments: ['staging'] });
    const none = await h.get<ServicesResponse>(`/api/v1/services?start=${T}&end=${T + 100_000}&namespace=${encodeURIComponent("x' OR 1=1 --")}`);
    expect(none.body.services).toEqual([]);
  });
});

describe('GET /api/v1/services/series', () => {
  it('gives per-bucket requests and errors that add up to the services figures, aligned on every bucket', async () => {
    const range = `start=${T}&end=${T + 99_999}`;
    const r = await h.get<ServiceSeriesResponse>(`/api/v1/services/series?${range}&step=10s`);
    expect(r.status).toBe(200);
    expect(r.body.stepMs).toBe(10_000);
    expect(r.body.timestamps).toEqual(Array.from({ length: 10 }, (_, i) => T + i * 10_000));
    const totals = await h.get<ServicesResponse>(`/api/v1/services?${range}`);
    expect(r.body.services.map((s) => s.serviceName)).toEqual(totals.body.services.map((s) => s.serviceName));
    for (const s of r.body.services) {
      const t = totals.body.services.find((x) => x.serviceName === s.serviceName)!;
      expect(s.requests).toHaveLength(10);
      expect(s.requests.reduce((a, b) => a + b, 0)).toBe(t.requests);
      expect(s.errors.reduce((a, b) => a + b, 0)).toBe(t.errors);
    }
    // api: 10 requests per 10 s bucket, durations (10k+1 … 10k+10) ms: median 10k+5.5 ms.
    const api = r.body.services.find((s) => s.serviceName === 'api')!;
    expect(api.requests).toEqual(Array(10).fill(10));
    expect(api.p50[0]).toBeCloseTo(5.5e6, 0);
    // cron: measured on roots in every bucket (it has no entry span); its 4 roots are at T + 60…63 s.
    const cron = r.body.services.find((s) => s.serviceName === 'cron')!;
    expect(cron.requests).toEqual([0, 0, 0, 0, 0, 0, 4, 0, 0, 0]);
    expect(cron.p95).toEqual([null, null, null, null, null, null, 1e9, null, null, null]);
  });

  it('chooses a round step for the wanted number of points', async () => {
    const r = await h.get<ServiceSeriesResponse>(`/api/v1/services/series?start=${T}&end=${T + 100_000}&points=20`);
    expect(r.body.stepMs).toBe(10_000);
    expect(r.body.timestamps.length).toBeLessThanOrEqual(20);
  });
});

describe('GET /api/v1/services/operations', () => {
  it('gives each operation of a service its requests, errors and latency, busiest first', async () => {
    const r = await h.get<OperationsResponse>(`/api/v1/services/operations?start=${T}&end=${T + 100_000}&service=api`);
    expect(r.status).toBe(200);
    expect(r.body.operations.map((o) => [o.operation, o.requests, o.errors])).toEqual([
      ['GET /a', 60, 3],
      ['POST /b', 40, 2],
    ]);
    expect(r.body.operations[0]!.requestRate).toBeCloseTo(0.6, 6);
    expect(r.body.operations[1]!.latencyNano.p50).toBeCloseTo(80.5e6, 0);
  });

  it('requires a service', async () => {
    const r = await h.get<any>(`/api/v1/services/operations?start=${T}&end=${T + 100_000}`);
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('service');
  });
});
