import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRow } from '#otlp/rows.ts';
import type { ErrorResponse, LogContextResponse, LogFacetsResponse, LogHistogramResponse, LogSearchResponse } from '../contract.ts';
import { type Harness, nsAt, startHarness } from '../testing/harness.ts';

const T0 = 1_700_000_040_000; // 2023-11-14T22:14:00Z, a whole minute
const TRACE = '0af7651916cd43dd8448eb211c80319c';

function log(p: Partial<LogRow> & Pick<LogRow, 'Timestamp' | 'Body'>): LogRow {
  return {
    TraceId: '',
    SpanId: '',
    TraceFlags: 0,
    SeverityText: 'INFO',
    SeverityNumber: 9,
    ServiceName: 'api',
    ResourceSchemaUrl: '',
    ResourceAttributes: { 'service.name': p.ServiceName ?? 'api' },
    ScopeSchemaUrl: '',
    ScopeName: '',
    ScopeVersion: '',
    ScopeAttributes: {},
    LogAttributes: {},
    EventName: '',
    ...p,
  };
}

const full = log({
  Timestamp: nsAt(T0 + 50_000, 123_456_789n),
  TraceId: TRACE,
  SpanId: 'b7ad6b7169203331',
  TraceFlags: 1,
  SeverityText: 'Error',
  SeverityNumber: 17,
  ServiceName: 'checkout',
  Body: 'Connection REFUSED by upstream payments:8443',
  ResourceSchemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
  ResourceAttributes: { 'service.name': 'checkout', 'k8s.pod.name': 'checkout-5c7d', 'host.name': 'n1' },
  ScopeSchemaUrl: 'https://opentelemetry.io/schemas/1.20.0',
  ScopeName: 'pino',
  ScopeVersion: '8.1.0',
  ScopeAttributes: { 'scope.attr': 'x' },
  LogAttributes: { 'http.route': '/pay', 'retry.count': '3', 'ok': 'false', 'raw': 'AAEC', 'list': '[1,2]', 'ünï': 'çödé' },
  EventName: 'payment.failed',
});

const records: LogRow[] = [
  full,
  log({ Timestamp: nsAt(T0 + 10_000), Body: 'request timeout after 5s', SeverityText: 'WARN', SeverityNumber: 13, LogAttributes: { 'http.route': '/cart' } }),
  log({ Timestamp: nsAt(T0 + 20_000), Body: 'timeouts are configured', SeverityText: 'DEBUG', SeverityNumber: 5 }),
  log({ Timestamp: nsAt(T0 + 30_000), Body: 'refused connection from 10.0.0.1', ServiceName: 'checkout', TraceId: TRACE }),
  log({ Timestamp: nsAt(T0 + 70_000), Body: 'fatal: out of memory', SeverityText: 'FATAL', SeverityNumber: 21 }),
  // Two records at the same nanosecond: paging must return each exactly once.
  log({ Timestamp: nsAt(T0 + 80_000, 5n), Body: 'twin one' }),
  log({ Timestamp: nsAt(T0 + 80_000, 5n), Body: 'twin two' }),
  log({ Timestamp: nsAt(T0 + 90_000), Body: 'Crème brûlée ÉTÉ served', SeverityNumber: 0, SeverityText: '' }),
];

// Ten minutes later, apart from the records above: pods and containers for facets and surrounding lines.
const T1 = T0 + 600_000;
const SPAN = 'a1b2c3d4e5f60718';
function podLog(ms: number, pod: string, container: string, body: string, extra: Partial<LogRow> = {}): LogRow {
  const ns = pod.startsWith('web') ? 'shop' : 'ops';
  return log({
    Timestamp: nsAt(T1 + ms),
    ServiceName: pod.startsWith('web') ? 'web' : 'ops-agent',
    Body: body,
    ResourceAttributes: { 'service.name': pod.startsWith('web') ? 'web' : 'ops-agent', 'k8s.namespace.name': ns, 'k8s.pod.name': pod, 'k8s.container.name': container },
    ...extra,
  });
}
const sourced: LogRow[] = [
  // web-1/app: lines 0…9, one second apart, and three more at line 5's exact nanosecond.
  ...Array.from({ length: 10 }, (_, i) => podLog(i * 1000, 'web-1', 'app', `app line ${i}`, i === 7 ? { SeverityNumber: 17, SeverityText: 'ERROR' } : {})),
  podLog(5000, 'web-1', 'app', 'app line 5 twin a', { TraceId: TRACE, SpanId: SPAN }),
  podLog(5000, 'web-1', 'app', 'app line 5 twin b', { TraceId: TRACE, SpanId: 'ffffffffffffffff' }),
  // Same pod, another container; another pod, same container name: neither is web-1/app's context.
  ...Array.from({ length: 4 }, (_, i) => podLog(i * 1000 + 500, 'web-1', 'sidecar', `sidecar line ${i}`, { SeverityNumber: 13, SeverityText: 'WARN' })),
  ...Array.from({ length: 3 }, (_, i) => podLog(i * 1000 + 200, 'web-2', 'app', `web-2 line ${i}`)),
  podLog(2500, 'agent-x', 'agent', 'agent line', { SeverityNumber: 5, SeverityText: 'DEBUG' }),
  // A service without Kubernetes attributes.
  ...Array.from({ length: 5 }, (_, i) => log({ Timestamp: nsAt(T1 + i * 1000 + 300), ServiceName: 'batch', Body: `batch line ${i}`, ResourceAttributes: { 'service.name': 'batch' } })),
];
const range1 = `start=${T1}&end=${T1 + 60_000}`;

let h: Harness;
const range = `start=${T0}&end=${T0 + 120_000}`;

async function search(query: string): Promise<LogSearchResponse> {
  const r = await h.get<LogSearchResponse>(`/api/v1/logs?${range}&${query}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

const bodies = async (q: string) => (await search(q)).logs.map((l) => l.body);

beforeAll(async () => {
  h = await startHarness('logs');
  await h.insert('otel_logs', records);
  await h.insert('otel_logs', sourced);
});
afterAll(async () => {
  await h.close();
});

describe('GET /api/v1/logs', () => {
  it('returns records newest first with every field exactly as stored', async () => {
    const { logs } = await search('');
    expect(logs).toHaveLength(records.length);
    expect(logs.map((l) => l.timeUnixNano)).toEqual([...logs.map((l) => l.timeUnixNano)].sort((a, b) => (BigInt(b) > BigInt(a) ? 1 : -1)));
    expect(logs.find((l) => l.body === full.Body)).toEqual({
      timeUnixNano: '1700000090123456789',
      time: '2023-11-14T22:14:50.123456789Z',
      traceId: TRACE,
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
      severityText: 'Error',
      severityNumber: 17,
      serviceName: 'checkout',
      body: full.Body,
      eventName: 'payment.failed',
      attributes: full.LogAttributes,
      resource: { attributes: full.ResourceAttributes, schemaUrl: 'https://opentelemetry.io/schemas/1.21.0' },
      scope: { name: 'pino', version: '8.1.0', attributes: { 'scope.attr': 'x' }, schemaUrl: 'https://opentelemetry.io/schemas/1.20.0' },
    });
  });

  it('searches full text by whole words, case-insensitively, and by the phrase', async () => {
    expect(await bodies('q=connection%20refused')).toEqual([full.Body]);
    expect(await bodies('q=REFUSED')).toEqual([full.Body, 'refused connection from 10.0.0.1']);
    expect(await bodies('q=timeout')).toEqual(['request timeout after 5s']); // not "timeouts"
    expect(await bodies('q=payments:8443')).toEqual([full.Body]);
    expect(await bodies('q=brûlée')).toEqual(['Crème brûlée ÉTÉ served']);
    // Case folds in ASCII only, as lower(Body) that the index is built on: "ÉTÉ" matches itself, not "été".
    expect(await bodies(`q=${encodeURIComponent('ÉTÉ')}`)).toEqual(['Crème brûlée ÉTÉ served']);
    expect(await bodies(`q=${encodeURIComponent('été')}`)).toEqual([]);
  });

  it('filters by service, severity (number or name), trace and attributes', async () => {
    expect(await bodies('service=checkout')).toEqual([full.Body, 'refused connection from 10.0.0.1']);
    expect(await bodies('severity=warn')).toEqual(['fatal: out of memory', full.Body, 'request timeout after 5s']);
    expect(await bodies('severity=17')).toEqual(['fatal: out of memory', full.Body]);
    expect(await bodies(`traceId=${TRACE}`)).toEqual([full.Body, 'refused connection from 10.0.0.1']);
    expect(await bodies('attr=http.route=/cart')).toEqual(['request timeout after 5s']);
    expect(await bodies('attr=k8s.pod.name=checkout-5c7d')).toEqual([full.Body]);
    const late = await h.get<LogSearchResponse>(`/api/v1/logs?start=${T0 + 60_000}&end=${T0 + 120_000}&severity=fatal`);
    expect(late.body.logs.map((l) => l.body)).toEqual(['fatal: out of memory']);
  });

  async function pages(query: string, limit: number): Promise<{ bodies: string[]; pages: number }> {
    const bodies: string[] = [];
    let cursor: string | undefined;
    let n = 0;
    do {
      const page = await search(`${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.logs.length).toBeLessThanOrEqual(limit);
      bodies.push(...page.logs.map((l) => l.body));
      cursor = page.nextCursor;
      n++;
    } while (cursor !== undefined && n < 20);
    return { bodies, pages: n };
  }

  it('pages with a cursor without skipping or repeating records, equal timestamps included', async () => {
    const all = (await search('limit=100')).logs.map((l) => l.body);
    expect(new Set(all).size).toBe(records.length);
    for (const limit of [1, 2, 3, 7]) {
      const r = await pages('', limit);
      expect(r.bodies, `limit ${limit}`).toEqual(all);
      expect(r.pages).toBe(Math.ceil(records.length / limit));
    }
  });

  it('pages full-text results the same way', async () => {
    const r = await pages('q=twin', 1);
    expect(r.bodies.sort()).toEqual(['twin one', 'twin two']);
    expect(r.pages).toBe(2);
  });

  it('rejects bad parameters with a message naming them', async () => {
    const cases: [string, string][] = [
      ['severity=loud', 'querystring/severity'],
      ['limit=0', 'querystring/limit'],
      ['limit=1001', 'querystring/limit'],
      ['cursor=bm9wZQ', 'querystring/cursor'],
      ['traceId=xyz', 'querystring/traceId'],
      ['end=2023-13-01T00:00:00Z', 'querystring/end'],
    ];
    for (const [q, name] of cases) {
      const r = await h.get<ErrorResponse>(`/api/v1/logs?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.message, q).toContain(name);
    }
  });
});

describe('GET /api/v1/logs/histogram', () => {
  it('counts per bucket with every bucket of the range present', async () => {
    const r = await h.get<LogHistogramResponse>(
      `/api/v1/logs/histogram?start=${T0}&end=${T0 + 179_999}&bucket=1m`,
    );
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      bucketMs: 60_000,
      buckets: [
        { t: T0, count: 4 },
        { t: T0 + 60_000, count: 4 },
        { t: T0 + 120_000, count: 0 },
      ],
    });
  });

  it('splits by severity class and applies the search filters', async () => {
    const r = await h.get<LogHistogramResponse>(
      `/api/v1/logs/histogram?start=${T0}&end=${T0 + 119_999}&bucket=60&by=severity`,
    );
    expect(r.body.buckets).toEqual([
      { t: T0, count: 4, bySeverity: { ERROR: 1, WARN: 1, DEBUG: 1, INFO: 1 } },
      { t: T0 + 60_000, count: 4, bySeverity: { FATAL: 1, INFO: 2, UNSPECIFIED: 1 } },
    ]);
    const filtered = await h.get<LogHistogramResponse>(`/api/v1/logs/histogram?start=${T0}&end=${T0 + 119_999}&bucket=1m&q=refused`);
    expect(filtered.body.buckets.map((b) => b.count)).toEqual([2, 0]);
  });

  it('chooses a bucket from the range, and refuses one giving more than 11000 buckets', async () => {
    const r = await h.get<LogHistogramResponse>(`/api/v1/logs/histogram?start=${T0}&end=${T0 + 3_600_000}`);
    expect(r.body.bucketMs).toBe(60_000);
    const bad = await h.get<ErrorResponse>(`/api/v1/logs/histogram?start=${T0}&end=${T0 + 86_400_000}&bucket=1s`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('querystring/bucket');
  });
});

describe('GET /api/v1/logs with a span', () => {
  it('filters by span id (case-insensitive), beside the trace id', async () => {
    const r = await h.get<LogSearchResponse>(`/api/v1/logs?${range1}&traceId=${TRACE}&spanId=${SPAN.toUpperCase()}`);
    expect(r.status).toBe(200);
    expect(r.body.logs.map((l) => l.body)).toEqual(['app line 5 twin a']);
    const hist = await h.get<LogHistogramResponse>(`/api/v1/logs/histogram?${range1}&spanId=${SPAN}&bucket=1m`);
    expect(hist.body.buckets.map((b) => b.count)).toEqual([1, 0]);
    const bad = await h.get<ErrorResponse>(`/api/v1/logs?${range1}&spanId=abc`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('querystring/spanId');
  });
});

describe('GET /api/v1/logs/facets', () => {
  const facet = (r: LogFacetsResponse, field: string) => r.facets.find((f) => f.field === field)!;

  it('counts the top values of namespace, pod, service and severity for the search', async () => {
    const r = await h.get<LogFacetsResponse>(`/api/v1/logs/facets?${range1}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.total).toBe(sourced.length);
    expect(r.body.facets.map((f) => f.field)).toEqual(['k8s.namespace.name', 'k8s.pod.name', 'service.name', 'severity']);
    expect(facet(r.body, 'k8s.namespace.name')).toEqual({
      field: 'k8s.namespace.name',
      values: [
        { value: 'shop', count: 19 },
        { value: '', count: 5 },
        { value: 'ops', count: 1 },
      ],
      distinct: 3,
    });
    expect(facet(r.body, 'k8s.pod.name').values).toEqual([
      { value: 'web-1', count: 16 },
      { value: '', count: 5 },
      { value: 'web-2', count: 3 },
      { value: 'agent-x', count: 1 },
    ]);
    expect(facet(r.body, 'service.name').values).toEqual([
      { value: 'web', count: 19 },
      { value: 'batch', count: 5 },
      { value: 'ops-agent', count: 1 },
    ]);
    expect(facet(r.body, 'severity').values).toEqual([
      { value: 'INFO', count: 19 },
      { value: 'WARN', count: 4 },
      { value: 'DEBUG', count: 1 },
      { value: 'ERROR', count: 1 },
    ]);
  });

  it('applies the search filters and keeps the top n per field, with the distinct count and the total', async () => {
    const r = await h.get<LogFacetsResponse>(`/api/v1/logs/facets?${range1}&attr=k8s.namespace.name=shop&q=line&limit=1`);
    expect(r.status).toBe(200);
    expect(r.body.total).toBe(19); // web-1/app 12 (with the twins), web-1/sidecar 4, web-2 3
    expect(facet(r.body, 'k8s.pod.name')).toEqual({ field: 'k8s.pod.name', values: [{ value: 'web-1', count: 16 }], distinct: 2 });
    expect(facet(r.body, 'severity')).toEqual({ field: 'severity', values: [{ value: 'INFO', count: 14 }], distinct: 3 });
    const sev = await h.get<LogFacetsResponse>(`/api/v1/logs/facets?${range1}&severity=warn`);
    expect(facet(sev.body, 'severity').values).toEqual([
      { value: 'WARN', count: 4 },
      { value: 'ERROR', count: 1 },
    ]);
    expect(sev.body.total).toBe(5);
  });

  it('agrees with the search and the histogram', async () => {
    const r = await h.get<LogFacetsResponse>(`/api/v1/logs/facets?${range1}&service=web`);
    const s = await h.get<LogSearchResponse>(`/api/v1/logs?${range1}&service=web&limit=1000`);
    const hist = await h.get<LogHistogramResponse>(`/api/v1/logs/histogram?${range1}&service=web&by=severity`);
    expect(r.body.total).toBe(s.body.logs.length);
    expect(hist.body.buckets.reduce((n, b) => n + b.count, 0)).toBe(r.body.total);
  });

  it('refuses a bad limit', async () => {
    const r = await h.get<ErrorResponse>(`/api/v1/logs/facets?${range1}&limit=101`);
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('querystring/limit');
  });
});

describe('GET /api/v1/logs/context', () => {
  const at = (ms: number) => nsAt(T1 + ms).toString();
  const ctx = (q: string) => h.get<LogContextResponse & ErrorResponse>(`/api/v1/logs/context?${q}`);

  it("returns the lines before and after a record from its own pod and container, oldest first", async () => {
    const r = await ctx(`time=${at(3000)}&pod=web-1&container=app&namespace=shop&before=2&after=1`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.logs.map((l) => l.body)).toEqual(['app line 1', 'app line 2', 'app line 3', 'app line 4']);
    expect(r.body.at).toEqual({ index: 2, count: 1 });
    expect(r.body).toMatchObject({ moreBefore: true, moreAfter: true, source: 'shop/web-1/app' });
  });

  it('keeps every record sharing the timestamp together, in a stable order, and counts the sides beyond it', async () => {
    const r = await ctx(`time=${at(5000)}&pod=web-1&container=app&before=1&after=1`);
    const bodies = r.body.logs.map((l) => l.body);
    expect(bodies[0]).toBe('app line 4');
    expect(bodies.slice(1, 4).sort()).toEqual(['app line 5', 'app line 5 twin a', 'app line 5 twin b']);
    expect(bodies[4]).toBe('app line 6');
    expect(r.body.at).toEqual({ index: 1, count: 3 });
    const again = await ctx(`time=${at(5000)}&pod=web-1&container=app&before=1&after=1`);
    expect(again.body.logs.map((l) => l.body)).toEqual(bodies);
    // The search orders the twins the same way (newest first = the reverse).
    const exact = isoOf(BigInt(at(5000)));
    const search = await h.get<LogSearchResponse>(`/api/v1/logs?start=${isoOf(BigInt(at(5000)) - 1n)}&end=${exact}&service=web`);
    expect(search.body.logs.map((l) => l.body).filter((b) => b.startsWith('app')).reverse()).toEqual(bodies.slice(1, 4));
  });

  it('stops at the ends of the source and of the window', async () => {
    const first = await ctx(`time=${at(0)}&pod=web-1&container=app&before=5&after=20`);
    expect(first.body.at).toEqual({ index: 0, count: 1 });
    expect(first.body.logs).toHaveLength(12);
    expect(first.body).toMatchObject({ moreBefore: false, moreAfter: false });
    const narrow = await ctx(`time=${at(5000)}&pod=web-1&container=app&before=50&after=50&window=2s`);
    expect(narrow.body.logs.map((l) => l.body).filter((b) => !b.startsWith('app line 5'))).toEqual(['app line 3', 'app line 4', 'app line 6', 'app line 7']);
  });

  it('takes the lines of the service when the record has no pod', async () => {
    const r = await ctx(`time=${at(2300)}&service=batch&before=1&after=10`);
    expect(r.body.logs.map((l) => l.body)).toEqual(['batch line 1', 'batch line 2', 'batch line 3', 'batch line 4']);
    expect(r.body).toMatchObject({ at: { index: 1, count: 1 }, moreBefore: true, moreAfter: false, source: 'batch' });
  });

  it('rejects a request without a source, a bad time or too many lines', async () => {
    const cases: [string, string][] = [
      [`time=${at(0)}`, 'querystring/pod'],
      ['pod=web-1', 'querystring/time'],
      [`time=abc&pod=web-1`, 'querystring/time'],
      [`time=99999999999999999999&pod=web-1`, 'querystring/time'],
      [`time=${at(0)}&pod=web-1&before=501`, 'querystring/before'],
      [`time=${at(0)}&pod=web-1&window=2d`, 'querystring/window'],
    ];
    for (const [q, msg] of cases) {
      const r = await ctx(q);
      expect(r.status, q).toBe(400);
      expect(r.body.error.message, q).toContain(msg);
    }
  });
});

function isoOf(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  return `${new Date(ms).toISOString().slice(0, 19)}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`;
}
