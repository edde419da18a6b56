import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRow } from '#otlp/rows.ts';
import type { ErrorResponse, LogHistogramResponse, LogSearchResponse } from '../contract.ts';
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
