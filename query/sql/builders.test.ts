/**
 * Snapshots of the generated SQL (text and parameters), and the guarantee that matters most: what a user
 * typed never appears in the statement text, only among the bound parameters.
 */
import { describe, expect, it } from 'vitest';
import type { Sql } from '#storage/sql.ts';
import { logHistogramSql, logSearchSql } from './logs.ts';
import { type MetricKind, metricKindSql, metricListSql } from './metrics/catalogue.ts';
import { metricPointsSql } from './metrics/points.ts';
import { type MetricQuery, metricSeriesSql } from './metrics/series.ts';
import { operationsSql, serviceSeriesSql, servicesSql } from './services.ts';
import { traceByIdSql, traceSearchSql } from './traces.ts';

const EVIL = "x'); DROP TABLE otel.otel_traces; --";
const range = { startNs: 1_700_000_000_000_000_000n, endNs: 1_700_003_600_000_000_000n };
const DB = 'otel';

function rendered(q: Sql) {
  const r = q.render();
  expect(r.text).not.toContain(EVIL);
  expect(r.text).not.toContain('DROP TABLE');
  return r;
}

describe('trace SQL', () => {
  it('trace by id reads the lookup table first', () => {
    const r = rendered(traceByIdSql(DB, 'a'.repeat(32), 100));
    expect(r.text).toContain('otel_traces_trace_id_ts');
    expect(r).toMatchSnapshot();
  });
  it('trace search binds every filter', () => {
    const r = rendered(
      traceSearchSql(DB, {
        range,
        service: EVIL,
        operation: EVIL,
        minDurationNs: 250_000_000n,
        maxDurationNs: 2_000_000_000n,
        status: 'Error',
        attrs: [
          { key: EVIL, value: EVIL },
          { key: 'http.method', value: 'GET' },
        ],
        limit: 100,
      }),
    );
    expect(Object.values(r.params)).toEqual(expect.arrayContaining([EVIL, '250000000', '2000000000', 'Error', 'GET']));
    expect(r).toMatchSnapshot();
  });
  it('trace search without filters only bounds time', () => {
    expect(rendered(traceSearchSql(DB, { range, attrs: [], limit: 20 }))).toMatchSnapshot();
  });
});

describe('log SQL', () => {
  it('search with full text, filters and a cursor', () => {
    const r = rendered(
      logSearchSql(DB, {
        range,
        service: EVIL,
        minSeverity: 13,
        traceId: 'b'.repeat(32),
        attrs: [{ key: EVIL, value: EVIL }],
        q: `Connection refused ${EVIL}`,
        limit: 100,
        cursor: { tsNs: 1_700_000_100_000_000_001n, hash: '18446744073709551615' },
      }),
    );
    expect(r.text).toContain('hasToken(lower(Body)');
    expect(r.text).toContain('positionCaseInsensitive(Body');
    expect(Object.values(r.params)).toEqual(expect.arrayContaining(['connection', 'refused', 'x', 'drop', 'table', 'otel', 'traces']));
    expect(r).toMatchSnapshot();
  });
  it('search without full text finds the page boundary first', () => {
    const r = rendered(
      logSearchSql(DB, { range, service: EVIL, attrs: [], limit: 50, cursor: { tsNs: 1_700_000_100_000_000_001n, hash: '42' } }),
    );
    expect(r.text).toContain('AS boundary');
    expect(r.text).toContain('Timestamp >= boundary');
    expect(r).toMatchSnapshot();
  });
  it('a single word needs no phrase check', () => {
    const r = rendered(logSearchSql(DB, { range, attrs: [], q: 'Timeout', limit: 10 }));
    expect(r.text).toContain('hasToken');
    expect(r.text).not.toContain('positionCaseInsensitive');
  });
  it('histogram, plain and by severity', () => {
    expect(rendered(logHistogramSql(DB, { range, attrs: [], service: EVIL }, 60_000, false))).toMatchSnapshot();
    expect(rendered(logHistogramSql(DB, { range, attrs: [] }, 60_000, true))).toMatchSnapshot();
  });
});

describe('services SQL', () => {
  it('binds the service and the range length', () => {
    expect(rendered(servicesSql(DB, { range, service: EVIL, limit: 100 }))).toMatchSnapshot();
  });

  it('binds the namespace and environment filters of the table, its series and its operations', () => {
    const f = { range, namespace: EVIL, environment: EVIL };
    expect(rendered(servicesSql(DB, { ...f, limit: 100 }))).toMatchSnapshot();
    expect(rendered(serviceSeriesSql(DB, { ...f, service: EVIL, stepMs: 60_000, limit: 100 }))).toMatchSnapshot();
    expect(rendered(operationsSql(DB, { ...f, service: EVIL, limit: 20 }))).toMatchSnapshot();
  });
});

describe('metric SQL', () => {
  const base: Omit<MetricQuery, 'kind' | 'agg'> = {
    name: EVIL,
    range,
    stepMs: 60_000,
    filters: [
      { key: EVIL, op: '=', value: EVIL },
      { key: 'ServiceName', op: '!=', value: EVIL },
      { key: 'route', op: '=~', value: EVIL },
      { key: 'route', op: '!~', value: '/health' },
    ],
    groupBy: [EVIL, 'ServiceName'],
    limit: 100,
  };
  const kinds: Record<string, MetricKind> = {
    gauge: { type: 'gauge', temporality: 0, monotonic: false },
    counter: { type: 'sum', temporality: 2, monotonic: true },
    deltaCounter: { type: 'sum', temporality: 1, monotonic: true },
    upDown: { type: 'sum', temporality: 2, monotonic: false },
    histogram: { type: 'histogram', temporality: 2, monotonic: false },
    deltaHistogram: { type: 'histogram', temporality: 1, monotonic: false },
    summary: { type: 'summary', temporality: 0, monotonic: false },
    exponential: { type: 'exponential_histogram', temporality: 2, monotonic: false },
  };
  const cases: [string, MetricKind, MetricQuery['agg'], number?][] = [
    ['gauge avg', kinds['gauge']!, 'avg'],
    ['gauge last', kinds['gauge']!, 'last'],
    ['counter rate', kinds['counter']!, 'rate'],
    ['counter increase', kinds['counter']!, 'increase'],
    ['delta counter rate', kinds['deltaCounter']!, 'rate'],
    ['up-down counter rate', kinds['upDown']!, 'rate'],
    ['histogram p95', kinds['histogram']!, 'quantile', 0.95],
    ['delta histogram p50', kinds['deltaHistogram']!, 'quantile', 0.5],
    ['histogram avg', kinds['histogram']!, 'avg'],
    ['delta histogram rate', kinds['deltaHistogram']!, 'rate'],
    ['summary p99', kinds['summary']!, 'quantile', 0.99],
    ['exponential histogram count', kinds['exponential']!, 'count'],
    ['exponential histogram p90', kinds['exponential']!, 'quantile', 0.9],
    ['delta exponential histogram p50', { type: 'exponential_histogram', temporality: 1, monotonic: false }, 'quantile', 0.5],
  ];
  for (const [name, kind, agg, q] of cases) {
    it(name, () => {
      expect(rendered(metricSeriesSql(DB, { ...base, kind, agg, q }))).toMatchSnapshot();
    });
  }
  it('without groupBy a series is its full label set; empty groupBy merges all', () => {
    const all = rendered(metricSeriesSql(DB, { ...base, groupBy: undefined, kind: kinds['gauge']!, agg: 'avg' }));
    expect(all.text).toContain("mapUpdate(CAST(Attributes, 'Map(String, String)'), map('ServiceName', toString(ServiceName)))");
    const one = rendered(metricSeriesSql(DB, { ...base, groupBy: [], kind: kinds['gauge']!, agg: 'avg' }));
    expect(one.text).toContain("CAST(map(), 'Map(String, String)') AS labels");
  });
  it('regex filters are anchored in the bound value', () => {
    const r = rendered(metricSeriesSql(DB, { ...base, kind: kinds['gauge']!, agg: 'avg' }));
    expect(Object.values(r.params)).toContain(`^(?:${EVIL})$`);
  });
  it('catalogue and kind lookup', () => {
    expect(rendered(metricListSql(DB, { range, search: EVIL, limit: 1000 }))).toMatchSnapshot();
    expect(rendered(metricKindSql(DB, EVIL, range))).toMatchSnapshot();
    expect(rendered(metricListSql(DB, { range, service: EVIL, limit: 1000 }))).toMatchSnapshot();
  });
  it('raw points of every type, hostile name and filter values kept in parameters', () => {
    for (const type of ['gauge', 'sum', 'histogram', 'exponential_histogram', 'summary'] as const) {
      const r = rendered(metricPointsSql(DB, { name: EVIL, type, range, filters: [{ key: EVIL, op: '=', value: EVIL }], limit: 100 }));
      expect(r.text).not.toContain(EVIL);
      expect(r).toMatchSnapshot();
    }
  });
});
