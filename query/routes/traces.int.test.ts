import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '#core/log.ts';
import { createMetrics } from '#core/metrics.ts';
import type { SpanRow } from '#otlp/rows.ts';
import { buildQueryApp } from '../app.ts';
import type { CompactTraceResponse, ErrorResponse, Span, TraceResponse, TraceScatterResponse, TraceSearchResponse, TraceSummary } from '../contract.ts';
import { acceptsGzip } from '../accept-encoding.ts';
import { GZIP_MIN_BYTES } from './traces.ts';
import { type Harness, nsAt, startHarness } from '../testing/harness.ts';

const T0 = 1_700_000_000_000; // 2023-11-14T22:13:20Z
const MS = 1_000_000n;
const A = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const B = 'b0000000000000000000000000000001';
const C = 'c0000000000000000000000000000002';

/** Attribute values of every AnyValue type, in the exporter's stored string form. */
const EVERY_TYPE = {
  'http.method': 'GET',
  'http.status_code': '200',
  'sample.ratio': '0.25',
  'cache.hit': 'true',
  'payload.bytes': 'AQID/w==',
  'tags': '["a",1,true]',
  'nested': '{"k":"v","n":2}',
  'unicode': 'héllo ✓ "quoted" \\ back',
  'empty': '',
};

function span(p: Partial<SpanRow> & Pick<SpanRow, 'TraceId' | 'SpanId' | 'Timestamp' | 'ServiceName' | 'SpanName'>): SpanRow {
  return {
    ParentSpanId: '',
    TraceState: '',
    SpanKind: 'Internal',
    ResourceAttributes: { 'service.name': p.ServiceName },
    ScopeName: 'test-scope',
    ScopeVersion: '1.0.0',
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

const root = span({
  TraceId: A,
  SpanId: '1111111111111111',
  Timestamp: nsAt(T0, 123_456_789n),
  TraceState: 'vendor=abc,other=1',
  ServiceName: 'frontend',
  SpanName: 'GET /checkout',
  SpanKind: 'Server',
  ResourceAttributes: { 'service.name': 'frontend', 'host.name': 'h1', 'k8s.pod.name': 'frontend-7d9f' },
  ScopeName: '@opentelemetry/instrumentation-http',
  ScopeVersion: '0.45.1',
  SpanAttributes: EVERY_TYPE,
  Duration: '250000001',
  StatusCode: 'Ok',
  StatusMessage: '',
  'Events.Timestamp': [nsAt(T0, 130_000_001n), nsAt(T0, 200_000_999n)],
  'Events.Name': ['cache miss', 'exception'],
  'Events.Attributes': [{ 'cache.key': 'cart:42' }, { 'exception.type': 'Error', 'exception.message': 'boom' }],
  'Links.TraceId': [C],
  'Links.SpanId': ['3333333333333333'],
  'Links.TraceState': ['congo=t61rcWkgMzE'],
  'Links.Attributes': [{ 'link.kind': 'follows', 'link.n': '7' }],
});

const spans: SpanRow[] = [
  root,
  span({
    TraceId: A,
    SpanId: '1111111111111112',
    ParentSpanId: '1111111111111111',
    Timestamp: nsAt(T0 + 130, 1n),
    ServiceName: 'cart',
    SpanName: 'POST /cart',
    SpanKind: 'Server',
    ResourceAttributes: { 'service.name': 'cart', 'host.name': 'h1' },
    Duration: (100n * MS).toString(),
    StatusCode: 'Error',
    StatusMessage: 'cart service failed',
  }),
  span({
    TraceId: A,
    SpanId: '1111111111111113',
    ParentSpanId: '1111111111111112',
    Timestamp: nsAt(T0 + 140),
    ServiceName: 'cart',
    SpanName: 'SELECT cart',
    SpanKind: 'Client',
    Duration: (20n * MS).toString(),
    SpanAttributes: { 'db.system': 'postgresql' },
  }),
  span({
    TraceId: B,
    SpanId: '2222222222222221',
    Timestamp: nsAt(T0 + 60_000),
    ServiceName: 'batch',
    SpanName: 'nightly-job',
    Duration: (2000n * MS).toString(),
    SpanAttributes: { 'job.id': '42' },
  }),
  span({
    TraceId: B,
    SpanId: '2222222222222222',
    ParentSpanId: '2222222222222221',
    Timestamp: nsAt(T0 + 61_000),
    ServiceName: 'batch',
    SpanName: 'step',
    Duration: (500n * MS).toString(),
  }),
  span({
    TraceId: C,
    SpanId: '3333333333333333',
    Timestamp: nsAt(T0 + 120_000),
    ServiceName: 'frontend',
    SpanName: 'GET /home',
    SpanKind: 'Server',
    ResourceAttributes: { 'service.name': 'frontend', 'host.name': 'h2' },
    SpanAttributes: { 'http.method': 'GET' },
    Duration: (5n * MS).toString(),
    StatusCode: 'Ok',
  }),
];

/** Outside every test's search range (they count traces), 100-300 days before T0. */
const FAR = 'd0000000000000000000000000000003';
const WIDE = 'e0000000000000000000000000000004';
const DAY = 86_400_000;
/** A trace over 200 days with a span of the longest duration a UInt64 holds: offsets past 2^53 ns. */
const far: SpanRow[] = [
  span({ TraceId: FAR, SpanId: 'f000000000000001', Timestamp: nsAt(T0 - 300 * DAY), ServiceName: 'batch', SpanName: 'old', Duration: '18446744073709551615' }),
  span({ TraceId: FAR, SpanId: 'f000000000000002', ParentSpanId: 'f000000000000001', Timestamp: nsAt(T0 - 100 * DAY, 7n), ServiceName: 'batch', SpanName: 'late' }),
];
/** 400 spans of three services: an answer large enough to be compressed. */
const wide: SpanRow[] = Array.from({ length: 400 }, (_, i) =>
  span({
    TraceId: WIDE,
    SpanId: `e${i.toString(16).padStart(15, '0')}`,
    ParentSpanId: i === 0 ? '' : 'e000000000000000',
    Timestamp: nsAt(T0 - 50 * DAY + i),
    ServiceName: ['api', 'db', 'cache'][i % 3]!,
    SpanName: `op ${i}`,
    ResourceAttributes: { 'service.name': ['api', 'db', 'cache'][i % 3]!, 'k8s.pod.name': `pod-${i % 3}`, 'k8s.namespace.name': 'shop' },
    SpanAttributes: { 'db.statement': `SELECT * FROM items WHERE id = ${i}` },
  }),
);

/** The full form of a compact answer's spans: what the compact form stands for. */
function expand(c: CompactTraceResponse): Omit<Span, 'startTime'>[] {
  const base = BigInt(c.startTimeUnixNano);
  return c.spans.map((s) => ({
    traceId: c.traceId,
    spanId: s.spanId,
    parentSpanId: s.parentSpanId,
    traceState: s.traceState ?? '',
    name: s.name,
    kind: s.kind,
    serviceName: c.resources[s.resource]!.serviceName,
    startTimeUnixNano: (base + BigInt(s.start)).toString(),
    durationNano: String(s.duration),
    status: s.status ?? { code: 'Unset', message: '' },
    attributes: s.attributes,
    resource: { attributes: c.resources[s.resource]!.attributes },
    scope: c.scopes[s.scope]!,
    events: s.events ?? [],
    links: s.links ?? [],
  }));
}

const withoutStartTime = (spans: Span[]) => spans.map(({ startTime: _, ...rest }) => rest);

let h: Harness;
const range = `start=${T0 - 1000}&end=${T0 + 600_000}`;

beforeAll(async () => {
  h = await startHarness('traces');
  // Two inserts, so the trace-id lookup table holds two rows for trace A (as with batches from two writers).
  await h.insert('otel_traces', spans.slice(0, 2));
  await h.insert('otel_traces', spans.slice(2));
  await h.insert('otel_traces', [...far, ...wide]);
});
afterAll(async () => {
  await h.close();
});

async function search(query: string): Promise<TraceSummary[]> {
  const r = await h.get<TraceSearchResponse>(`/api/v1/traces?${range}&${query}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.traces;
}

describe('GET /api/v1/traces/{traceId}', () => {
  it('returns every span of the trace with ids, nanosecond times, attributes, events, links and status exactly as stored', async () => {
    const r = await h.get<TraceResponse>(`/api/v1/traces/${A}`);
    expect(r.status).toBe(200);
    expect(r.body.traceId).toBe(A);
    expect(r.body.truncated).toBe(false);
    expect(r.body.spans).toHaveLength(3);
    const rootSpan: Span = {
      traceId: A,
      spanId: '1111111111111111',
      parentSpanId: '',
      traceState: 'vendor=abc,other=1',
      name: 'GET /checkout',
      kind: 'Server',
      serviceName: 'frontend',
      startTimeUnixNano: '1700000000123456789',
      startTime: '2023-11-14T22:13:20.123456789Z',
      durationNano: '250000001',
      status: { code: 'Ok', message: '' },
      attributes: EVERY_TYPE,
      resource: { attributes: { 'service.name': 'frontend', 'host.name': 'h1', 'k8s.pod.name': 'frontend-7d9f' } },
      scope: { name: '@opentelemetry/instrumentation-http', version: '0.45.1' },
      events: [
        { timeUnixNano: '1700000000130000001', name: 'cache miss', attributes: { 'cache.key': 'cart:42' } },
        { timeUnixNano: '1700000000200000999', name: 'exception', attributes: { 'exception.type': 'Error', 'exception.message': 'boom' } },
      ],
      links: [{ traceId: C, spanId: '3333333333333333', traceState: 'congo=t61rcWkgMzE', attributes: { 'link.kind': 'follows', 'link.n': '7' } }],
    };
    expect(r.body.spans[0]).toEqual(rootSpan);
    expect(r.body.spans[1]).toMatchObject({
      spanId: '1111111111111112',
      parentSpanId: '1111111111111111',
      startTimeUnixNano: '1700000000130000001',
      status: { code: 'Error', message: 'cart service failed' },
      events: [],
      links: [],
    });
  });

  it('accepts an upper-case id', async () => {
    const r = await h.get<TraceResponse>(`/api/v1/traces/${A.toUpperCase()}`);
    expect(r.status).toBe(200);
    expect(r.body.spans).toHaveLength(3);
  });

  it('marks a trace longer than the limit as truncated', async () => {
    const r = await h.get<TraceResponse>(`/api/v1/traces/${A}?limit=2`);
    expect(r.body.truncated).toBe(true);
    expect(r.body.spans.map((s) => s.spanId)).toEqual(['1111111111111111', '1111111111111112']);
  });

  it('answers 404 for an unknown trace and 400 for a malformed id', async () => {
    expect((await h.get(`/api/v1/traces/${'d'.repeat(32)}`)).status).toBe(404);
    const bad = await h.get<ErrorResponse>('/api/v1/traces/not-a-trace-id');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('traceId');
  });
});

describe('GET /api/v1/traces', () => {
  it('returns summaries newest first', async () => {
    const traces = await search('');
    expect(traces.map((t) => t.traceId)).toEqual([C, B, A]);
    expect(traces[2]).toEqual({
      traceId: A,
      rootServiceName: 'frontend',
      rootSpanName: 'GET /checkout',
      startTimeUnixNano: '1700000000123456789',
      startTime: '2023-11-14T22:13:20.123456789Z',
      durationNano: '250000001', // the root spans the trace

      spanCount: 3,
      errorCount: 1,
      services: ['cart', 'frontend'],
    });
  });

  it('narrows by each filter', async () => {
    const ids = async (q: string) => (await search(q)).map((t) => t.traceId);
    expect(await ids('service=cart')).toEqual([A]);
    expect(await ids('operation=GET%20%2Fhome')).toEqual([C]);
    expect(await ids('minDuration=1s')).toEqual([B]);
    expect(await ids('minDuration=400ms&maxDuration=600ms')).toEqual([B]);
    expect(await ids('maxDuration=10000000')).toEqual([C]); // bare numbers are nanoseconds: 10 ms
    expect(await ids('maxDuration=20ms')).toEqual([C, A]);
  });

  it('matches span and resource attributes, and status', async () => {
    const ids = async (q: string) => (await search(q)).map((t) => t.traceId);
    expect(await ids('attr=http.method=GET')).toEqual([C, A]);
    expect(await ids('attr=host.name=h2')).toEqual([C]);
    expect(await ids('attr=job.id=42')).toEqual([B]);
    expect(await ids('attr=http.method=GET&attr=host.name=h1')).toEqual([A]);
    expect(await ids('attr=nested={"k":"v","n":2}')).toEqual([A]);
    expect(await ids('status=Error')).toEqual([A]);
    expect(await ids('status=Ok&service=frontend')).toEqual([C, A]);
  });

  it('limits, and summarises whole traces even when only part of one is in the range', async () => {
    expect((await search('limit=1')).map((t) => t.traceId)).toEqual([C]);
    // The range starts after trace A's earliest span: A matches through its later spans and is summarised whole.
    const r = await h.get<TraceSearchResponse>(`/api/v1/traces?start=${T0 + 125}&end=${T0 + 150}`);
    expect(r.body.traces.map((t) => [t.traceId, t.spanCount])).toEqual([[A, 3]]);
  });

  it('rejects bad parameters with a message naming them', async () => {
    const cases: [string, string][] = [
      ['limit=1001', 'querystring/limit'],
      ['minDuration=fast', 'querystring/minDuration'],
      ['status=Broken', 'querystring/status'],
      ['attr=novalue', 'querystring/attr'],
      ['start=yesterday', 'querystring/start'],
      [`start=${T0 + 10}&end=${T0}`, 'querystring/start'],
      ['servce=cart', 'querystring/servce'],
    ];
    for (const [q, name] of cases) {
      const r = await h.get<ErrorResponse>(`/api/v1/traces?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.message, q).toContain(name);
    }
  });
});

describe('GET /api/v1/traces paging', () => {
  it('pages with nextCursor, newest first, without skipping or repeating a trace', async () => {
    const first = await h.get<TraceSearchResponse>(`/api/v1/traces?${range}&limit=2`);
    expect(first.body.traces.map((t) => t.traceId)).toEqual([C, B]);
    expect(first.body.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const second = await h.get<TraceSearchResponse>(`/api/v1/traces?${range}&limit=2&cursor=${first.body.nextCursor}`);
    expect(second.status).toBe(200);
    expect(second.body.traces.map((t) => t.traceId)).toEqual([A]);
    expect(second.body.nextCursor).toBeUndefined();
    // The last page is whole too: a summary of every span of A.
    expect(second.body.traces[0]).toMatchObject({ spanCount: 3, errorCount: 1 });
  });

  it('keeps paging with filters, and a page of exactly the limit has no cursor', async () => {
    const p1 = await h.get<TraceSearchResponse>(`/api/v1/traces?${range}&attr=http.method=GET&limit=1`);
    expect(p1.body.traces.map((t) => t.traceId)).toEqual([C]);
    const p2 = await h.get<TraceSearchResponse>(`/api/v1/traces?${range}&attr=http.method=GET&limit=1&cursor=${p1.body.nextCursor}`);
    expect(p2.body.traces.map((t) => t.traceId)).toEqual([A]);
    expect(p2.body.nextCursor).toBeUndefined();
    const all = await h.get<TraceSearchResponse>(`/api/v1/traces?${range}&limit=3`);
    expect(all.body.traces).toHaveLength(3);
    expect(all.body.nextCursor).toBeUndefined();
  });

  it('breaks ties in matching time by trace id', async () => {
    // Two traces whose earliest spans start at the same nanosecond.
    const t = nsAt(T0 + 300_000);
    const E = 'e0000000000000000000000000000005';
    const F = 'f0000000000000000000000000000006';
    await h.insert('otel_traces', [
      span({ TraceId: E, SpanId: '5555555555555555', Timestamp: t, ServiceName: 'tie', SpanName: 'same' }),
      span({ TraceId: F, SpanId: '6666666666666666', Timestamp: t, ServiceName: 'tie', SpanName: 'same' }),
    ]);
    const seen: string[] = [];
    let cursor = '';
    for (let i = 0; i < 3; i++) {
      const r = await h.get<TraceSearchResponse>(`/api/v1/traces?${range}&service=tie&limit=1${cursor}`);
      seen.push(...r.body.traces.map((x) => x.traceId));
      if (r.body.nextCursor === undefined) break;
      cursor = `&cursor=${r.body.nextCursor}`;
    }
    expect(seen).toEqual([F, E]);
  });

  it('refuses a cursor it did not issue', async () => {
    for (const c of ['bm9wZQ', 'MTIzLnh5eg', '!!']) {
      const r = await h.get<ErrorResponse>(`/api/v1/traces?${range}&cursor=${c}`);
      expect(r.status, c).toBe(400);
      expect(r.body.error.message).toContain('querystring/cursor');
    }
  });
});

describe('GET /api/v1/traces/scatter', () => {
  const scatter = async (q: string) => {
    const r = await h.get<TraceScatterResponse>(`/api/v1/traces/scatter?start=${T0 - 1000}&end=${T0 + 200_000}&${q}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body;
  };

  it('without a service or operation plots root spans: one point per trace, with its duration and status', async () => {
    const r = await scatter('');
    expect(r.sampled).toBe(false);
    expect(r.total).toBe(3);
    const byTrace = Object.fromEntries(r.points.map((p) => [p.traceId, p]));
    expect(Object.keys(byTrace).sort()).toEqual([A, B, C].sort());
    expect(byTrace[A]).toEqual({
      startTimeUnixNano: '1700000000123456789',
      durationNano: '250000001',
      status: 'Ok',
      traceId: A,
      spanId: '1111111111111111',
      serviceName: 'frontend',
      name: 'GET /checkout',
    });
    expect(byTrace[B]).toMatchObject({ durationNano: '2000000000', status: 'Unset' });
  });

  it('with a service, plots that service\'s matching spans, whatever their depth', async () => {
    const r = await scatter('service=cart');
    expect(r.points.map((p) => p.name).sort()).toEqual(['POST /cart', 'SELECT cart']);
    expect((await scatter('service=cart&status=Error')).points.map((p) => [p.spanId, p.status])).toEqual([['1111111111111112', 'Error']]);
    expect((await scatter('operation=step&minDuration=100ms')).points.map((p) => p.spanId)).toEqual(['2222222222222222']);
    expect((await scatter('attr=host.name=h2')).points.map((p) => p.traceId)).toEqual([C]);
  });

  it('caps the points and says how many matched', async () => {
    const r = await scatter('limit=2');
    expect(r.points).toHaveLength(2);
    expect(r.total).toBe(3);
    expect(r.sampled).toBe(true);
    // The sample is stable: the same request gives the same points.
    expect((await scatter('limit=2')).points).toEqual(r.points);
    const none = await scatter('service=nobody');
    expect(none).toEqual({ points: [], total: 0, sampled: false });
  });

  it('rejects bad parameters with a message naming them', async () => {
    for (const [q, name] of [
      ['limit=10001', 'querystring/limit'],
      ['minDuration=1s&maxDuration=1ms', 'querystring/minDuration'],
      ['cursor=x', 'querystring/cursor'],
    ] as const) {
      const r = await h.get<ErrorResponse>(`/api/v1/traces/scatter?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.message, q).toContain(name);
    }
  });
});

describe('GET /api/v1/traces/{traceId}?shape=compact', () => {
  it('carries exactly what the full answer does, for every trace', async () => {
    for (const id of [A, B, C, FAR, WIDE]) {
      const full = await h.get<TraceResponse>(`/api/v1/traces/${id}`);
      const compact = await h.get<CompactTraceResponse>(`/api/v1/traces/${id}?shape=compact`);
      expect(compact.status, id).toBe(200);
      expect(compact.body.truncated).toBe(full.body.truncated);
      expect(expand(compact.body), id).toEqual(withoutStartTime(full.body.spans));
    }
  });

  it('lists each resource and scope once, in order of first use, times as numbers from the first start, empty fields left out', async () => {
    const r = await h.get<CompactTraceResponse>(`/api/v1/traces/${A}?shape=compact`);
    expect(r.body.traceId).toBe(A);
    expect(r.body.startTimeUnixNano).toBe('1700000000123456789');
    expect(r.body.resources).toEqual([
      { serviceName: 'frontend', attributes: { 'service.name': 'frontend', 'host.name': 'h1', 'k8s.pod.name': 'frontend-7d9f' } },
      { serviceName: 'cart', attributes: { 'service.name': 'cart', 'host.name': 'h1' } },
      { serviceName: 'cart', attributes: { 'service.name': 'cart' } },
    ]);
    expect(r.body.scopes).toEqual([
      { name: '@opentelemetry/instrumentation-http', version: '0.45.1' },
      { name: 'test-scope', version: '1.0.0' },
    ]);
    expect(r.body.spans.map((s) => [s.spanId, s.start, s.duration, s.resource, s.scope])).toEqual([
      ['1111111111111111', 0, 250_000_001, 0, 0],
      ['1111111111111112', 6_543_212, 100_000_000, 1, 1],
      ['1111111111111113', 16_543_211, 20_000_000, 2, 1],
    ]);
    const [rootSpan, cartSpan, dbSpan] = r.body.spans;
    expect(rootSpan).toMatchObject({ traceState: 'vendor=abc,other=1', status: { code: 'Ok', message: '' } });
    expect(rootSpan!.events).toHaveLength(2);
    expect(rootSpan!.links).toHaveLength(1);
    expect(cartSpan!.status).toEqual({ code: 'Error', message: 'cart service failed' });
    expect(Object.keys(dbSpan!).sort()).toEqual(['attributes', 'duration', 'kind', 'name', 'parentSpanId', 'resource', 'scope', 'spanId', 'start']);
  });

  it('gives offsets and durations past 2^53 ns as exact decimal strings', async () => {
    const r = await h.get<CompactTraceResponse>(`/api/v1/traces/${FAR}?shape=compact`);
    expect(r.body.spans.map((s) => [s.start, s.duration])).toEqual([
      [0, '18446744073709551615'],
      [(200n * BigInt(DAY) * 1_000_000n + 7n).toString(), 1_000_000],
    ]);
  });

  it('marks a trace longer than the limit as truncated, and lists only the resources of the spans returned', async () => {
    const r = await h.get<CompactTraceResponse>(`/api/v1/traces/${WIDE}?shape=compact&limit=2`);
    expect(r.body.truncated).toBe(true);
    expect(r.body.spans.map((s) => s.spanId)).toEqual(['e000000000000000', 'e000000000000001']);
    expect(r.body.resources.map((x) => x.serviceName)).toEqual(['api', 'db']);
    const all = await h.get<CompactTraceResponse>(`/api/v1/traces/${WIDE}?shape=compact`);
    expect(all.body.spans).toHaveLength(400);
    expect(all.body.resources.map((x) => x.serviceName)).toEqual(['api', 'db', 'cache']);
  });

  it('answers 404 for an unknown trace and 400 for an unknown shape', async () => {
    expect((await h.get(`/api/v1/traces/${'9'.repeat(32)}?shape=compact`)).status).toBe(404);
    const bad = await h.get<ErrorResponse>(`/api/v1/traces/${A}?shape=tiny`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('shape');
  });
});

describe('trace answers are gzipped for a client that accepts it', () => {
  it.each([
    ['gzip, deflate, br', true],
    ['br;q=1.0, gzip;q=0.8', true],
    ['GZIP', true],
    ['*', true],
    ['gzip;q=0', false],
    ['gzip; q=0.000', false],
    ['deflate, br', false],
    ['identity', false],
    ['', false],
    [undefined, false],
  ])('Accept-Encoding %j: %s', (header, want) => {
    expect(acceptsGzip(header)).toBe(want);
  });

  for (const shape of ['full', 'compact']) {
    it(`${shape}: a large answer is gzipped when accepted, and the same JSON plain otherwise`, async () => {
      const url = `/api/v1/traces/${WIDE}?shape=${shape}`;
      const plain = await h.app.inject({ url, headers: { 'accept-encoding': 'identity' } });
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.body.length).toBeGreaterThan(GZIP_MIN_BYTES);
      const zipped = await h.app.inject({ url, headers: { 'accept-encoding': 'gzip, deflate' } });
      expect(zipped.statusCode).toBe(200);
      expect(zipped.headers['content-encoding']).toBe('gzip');
      expect(zipped.headers['vary']).toContain('accept-encoding');
      expect(zipped.headers['content-type']).toContain('application/json');
      expect(zipped.rawPayload.length).toBeLessThan(plain.body.length / 4);
      expect(JSON.parse(gunzipSync(zipped.rawPayload).toString('utf8'))).toEqual(JSON.parse(plain.body));
    });
  }

  it('a small answer and an error go plain', async () => {
    const small = await h.app.inject({ url: `/api/v1/traces/${A}?shape=compact`, headers: { 'accept-encoding': 'gzip' } });
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(small.json<CompactTraceResponse>().spans).toHaveLength(3);
    const missing = await h.app.inject({ url: `/api/v1/traces/${'9'.repeat(32)}`, headers: { 'accept-encoding': 'gzip' } });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-encoding']).toBeUndefined();
    expect(missing.json<ErrorResponse>().error.code).toBe('NOT_FOUND');
  });
});

describe('the trace routes behind auth, and in OpenAPI', () => {
  it('answer 401 without the bearer token, and are documented', async () => {
    const app = await buildQueryApp({ store: h.store, authTokens: ['t0ken'], log: silentLogger(), metrics: createMetrics(), notReady: () => undefined });
    try {
      for (const url of ['/api/v1/traces/scatter', '/api/v1/traces?cursor=x', `/api/v1/traces/${A}`]) {
        expect((await app.inject({ url })).statusCode, url).toBe(401);
        expect((await app.inject({ url: `${url}`, headers: { authorization: 'Bearer t0ken' } })).statusCode, url).not.toBe(401);
      }
      const doc = (await app.inject({ url: '/openapi.json' })).json<{ paths: Record<string, { get: { parameters?: { name: string }[] } }> }>();
      expect(doc.paths['/api/v1/traces/scatter']!.get.parameters!.map((p) => p.name)).toEqual(expect.arrayContaining(['service', 'minDuration', 'attr', 'limit']));
      expect(doc.paths['/api/v1/traces']!.get.parameters!.map((p) => p.name)).toContain('cursor');
      expect(doc.paths['/api/v1/traces/{traceId}']!.get.parameters!.map((p) => p.name)).toEqual(expect.arrayContaining(['traceId', 'limit', 'shape']));
    } finally {
      await app.close();
    }
  });
});
