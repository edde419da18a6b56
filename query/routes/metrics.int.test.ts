import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Attrs, ExponentialHistogramRow, GaugeRow, HistogramRow, MetricRowBase, SumRow, SummaryRow } from '#otlp/rows.ts';
import { silentLogger } from '#core/log.ts';
import { createMetrics } from '#core/metrics.ts';
import { buildQueryApp } from '../app.ts';
import type { ErrorResponse, MetricCatalogResponse, MetricLabelValuesResponse, MetricPoint, MetricPointsResponse, MetricSeriesResponse } from '../contract.ts';
import { type Harness, nsAt, startHarness } from '../testing/harness.ts';

/**
 * Seeded series with hand-computed answers. Samples every 15 s at T + k·15 s; queries cover whole 60 s steps
 * from T, so step 0 holds k = 0…3, step 1 k = 4…7, step 2 k = 8…11. Counters also have samples before T (the
 * look-back), so step 0 gets its increase.
 */
const T = 1_700_000_040_000; // a whole minute
const at = (k: number, plusMs = 0) => nsAt(T + k * 15_000 + plusMs);
const K = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function base(name: string, k: number, attrs: Attrs, o: { resource?: Attrs; start?: string; plusMs?: number; unit?: string } = {}): MetricRowBase {
  return {
    ResourceAttributes: { 'service.name': 'api', ...o.resource },
    ResourceSchemaUrl: '',
    ScopeName: 'meter',
    ScopeVersion: '1',
    ScopeAttributes: {},
    ScopeDroppedAttrCount: 0,
    ScopeSchemaUrl: '',
    ServiceName: 'api',
    MetricName: name,
    MetricDescription: `${name} description`,
    MetricUnit: o.unit ?? '1',
    Attributes: attrs,
    StartTimeUnix: o.start ?? nsAt(T - 600_000),
    TimeUnix: at(k, o.plusMs),
    'Exemplars.FilteredAttributes': [],
    'Exemplars.TimeUnix': [],
    'Exemplars.Value': [],
    'Exemplars.SpanId': [],
    'Exemplars.TraceId': [],
  };
}

const sum = (name: string, k: number, value: number, attrs: Attrs, temporality: number, o: Parameters<typeof base>[3] = {}): SumRow => ({
  ...base(name, k, attrs, o),
  Value: value,
  Flags: 0,
  AggregationTemporality: temporality,
  IsMonotonic: true,
});

const sums: SumRow[] = [
  // route /a, pod p1: +15 per sample → 1/s.
  ...K(-4, 11).map((k) => sum('http.server.requests', k, 15 * (k + 4), { route: '/a' }, 2, { resource: { pod: 'p1' }, unit: '{request}' })),
  // route /a, pod p2 (same attributes, another counter): +30 per sample → 2/s, restarting at k = 6 (new start time, value 5).
  ...K(-4, 11).map((k) =>
    k < 6
      ? sum('http.server.requests', k, 30 * (k + 4), { route: '/a' }, 2, { resource: { pod: 'p2' }, unit: '{request}' })
      : sum('http.server.requests', k, 5 + 30 * (k - 6), { route: '/a' }, 2, { resource: { pod: 'p2' }, unit: '{request}', start: at(5, 1000) }),
  ),
  // route /b: +7.5 per sample → 0.5/s.
  ...K(-4, 11).map((k) => sum('http.server.requests', k, 7.5 * (k + 4), { route: '/b' }, 2, { resource: { pod: 'p1' }, unit: '{request}' })),
  // A delta counter: 30 per sample → 120 per step, 2/s.
  ...K(0, 11).map((k) => sum('jobs.processed', k, 30, {}, 1)),
];

const gauge = (k: number, value: number, pod: string, plusMs = 0): GaugeRow => ({ ...base('memory.usage', k, { pod }, { plusMs, unit: 'By' }), Value: value, Flags: 0 });
const EXEMPLAR_TRACE = '5b8efff798038103d269b633813fc60c';
const gauges: GaugeRow[] = [
  ...[10, 20, 30, 40, 50, 50, 50, 50].map((v, k) => gauge(k, v, 'p1')),
  ...K(0, 7).map((k) => gauge(k, 100, 'p2', 5000)), // 5 s later than p1: its point is each step's last
].map((g, i) =>
  // The first point carries an exemplar, for the raw points read.
  i === 0
    ? {
        ...g,
        Flags: 1,
        'Exemplars.FilteredAttributes': [{ 'user.id': 'u1' }],
        'Exemplars.TimeUnix': [at(0, -500)],
        'Exemplars.Value': [12.5],
        'Exemplars.SpanId': ['eee19b7ec3c1b174'],
        'Exemplars.TraceId': [EXEMPLAR_TRACE],
      }
    : g,
);

function hist(name: string, k: number, pod: string, counts: number[], s: number, temporality: number, bounds = [0.1, 0.5, 1], start?: string): HistogramRow {
  return {
    ...base(name, k, { pod }, { unit: 's', ...(start ? { start } : {}) }),
    Count: String(counts.reduce((a, b) => a + b, 0)),
    Sum: s,
    BucketCounts: counts.map(String),
    ExplicitBounds: bounds,
    Flags: 0,
    Min: 0,
    Max: 0,
    AggregationTemporality: temporality,
  };
}

const histograms: HistogramRow[] = [
  // Cumulative. Step 0: p1 gains [10,0,30,10] (an empty bucket in the middle), p2 gains [10,0,0,0].
  // Step 1: p1 gains [0,20,0,0]; p2 restarts and holds [1,0,0,0].
  hist('http.server.duration', -1, 'p1', [0, 0, 0, 0], 0, 2),
  hist('http.server.duration', 3, 'p1', [10, 0, 30, 10], 40, 2),
  hist('http.server.duration', 7, 'p1', [10, 20, 30, 10], 48, 2),
  hist('http.server.duration', -1, 'p2', [5, 5, 5, 5], 10, 2),
  hist('http.server.duration', 3, 'p2', [15, 5, 5, 5], 10.5, 2),
  hist('http.server.duration', 7, 'p2', [1, 0, 0, 0], 0.05, 2, undefined, at(6)),
  // Delta: two points in step 0, summed: [1,4,1] over bounds [1, 10].
  hist('rpc.duration', 1, 'p1', [1, 2, 1], 12, 1, [1, 10]),
  hist('rpc.duration', 2, 'p1', [0, 2, 0], 9, 1, [1, 10]),
];

const summary = (k: number, count: number, s: number, values: [number, number]): SummaryRow => {
  const { 'Exemplars.FilteredAttributes': _a, 'Exemplars.TimeUnix': _b, 'Exemplars.Value': _c, 'Exemplars.SpanId': _d, 'Exemplars.TraceId': _e, ...rest } = base(
    'gc.pause',
    k,
    {},
    { unit: 's' },
  );
  return { ...rest, Count: String(count), Sum: s, 'ValueAtQuantiles.Quantile': [0.5, 0.99], 'ValueAtQuantiles.Value': values, Flags: 0 };
};
const summaries: SummaryRow[] = [summary(-1, 0, 0, [0, 0]), summary(0, 10, 3, [0.2, 0.9]), summary(2, 20, 5, [0.25, 0.95])];

const exp = (k: number, count: number, s: number): ExponentialHistogramRow => ({
  ...base('exp.latency', k, {}, { unit: 'ms' }),
  Count: String(count),
  Sum: s,
  Scale: 2,
  ZeroCount: '0',
  PositiveOffset: 0,
  PositiveBucketCounts: [String(count)],
  NegativeOffset: 0,
  NegativeBucketCounts: [],
  Flags: 0,
  Min: 0,
  Max: 0,
  AggregationTemporality: 2,
});
/** Scale 0 (base 2): positive bucket i is (2^i, 2^(i+1)], negative bucket i is [-2^(i+1), -2^i). */
const expSized = (k: number, pos: number[], neg: number[], zero: number): ExponentialHistogramRow => ({
  ...exp(k, pos.reduce((a, b) => a + b, 0) + neg.reduce((a, b) => a + b, 0) + zero, 0),
  MetricName: 'exp.size',
  Scale: 0,
  ZeroCount: String(zero),
  PositiveBucketCounts: pos.map(String),
  NegativeBucketCounts: neg.map(String),
});
const exps = [
  exp(-1, 0, 0),
  exp(3, 8, 20),
  expSized(-1, [0, 0], [0], 0),
  expSized(3, [2, 2], [1], 1), // step 0 gains: one in [-2,-1), one at 0, two in (1,2], two in (2,4]
  expSized(7, [2, 6], [1], 1), // step 1 gains: four in (2,4]
];

let h: Harness;

async function query(q: string, steps = 3): Promise<MetricSeriesResponse> {
  const r = await h.get<MetricSeriesResponse>(`/api/v1/metrics/query?start=${T}&end=${T + steps * 60_000 - 1}&step=60s&${q}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

/** Values of each series, rounded to 9 digits (float sums). */
const values = (r: MetricSeriesResponse) => r.series.map((s) => s.points.map(([, v]) => Math.round(v! * 1e9) / 1e9));
const r9 = (x: number) => Math.round(x * 1e9) / 1e9;

beforeAll(async () => {
  h = await startHarness('metrics');
  await h.insert('otel_metrics_sum', sums);
  await h.insert('otel_metrics_gauge', gauges);
  await h.insert('otel_metrics_histogram', histograms);
  await h.insert('otel_metrics_summary', summaries);
  await h.insert('otel_metrics_exponential_histogram', exps);
});
afterAll(async () => {
  await h.close();
});

describe('GET /api/v1/metrics', () => {
  it('lists every metric with type, unit, temporality and label keys', async () => {
    const r = await h.get<MetricCatalogResponse>(`/api/v1/metrics?start=${T - 120_000}&end=${T + 600_000}`);
    expect(r.status).toBe(200);
    expect(r.body.metrics.map((m) => [m.name, m.type, m.temporality, m.monotonic])).toEqual([
      ['exp.latency', 'exponential_histogram', 'cumulative', false],
      ['exp.size', 'exponential_histogram', 'cumulative', false],
      ['gc.pause', 'summary', 'unspecified', false],
      ['http.server.duration', 'histogram', 'cumulative', false],
      ['http.server.requests', 'sum', 'cumulative', true],
      ['jobs.processed', 'sum', 'delta', true],
      ['memory.usage', 'gauge', 'unspecified', false],
      ['rpc.duration', 'histogram', 'delta', false],
    ]);
    expect(r.body.metrics[4]).toEqual({
      name: 'http.server.requests',
      type: 'sum',
      unit: '{request}',
      description: 'http.server.requests description',
      temporality: 'cumulative',
      monotonic: true,
      labels: ['ServiceName', 'route'],
    });
    const found = await h.get<MetricCatalogResponse>(`/api/v1/metrics?start=${T - 120_000}&end=${T + 600_000}&search=MEMORY`);
    expect(found.body.metrics.map((m) => m.name)).toEqual(['memory.usage']);
  });

  it('lists only the metrics a service reported when asked', async () => {
    const of = (service: string) => h.get<MetricCatalogResponse>(`/api/v1/metrics?start=${T - 120_000}&end=${T + 600_000}&service=${service}`);
    expect((await of('api')).body.metrics).toHaveLength(8);
    expect((await of('checkout')).body.metrics).toEqual([]);
  });
});

describe('GET /api/v1/metrics/points', () => {
  const points = (qs: string) => h.get<MetricPointsResponse>(`/api/v1/metrics/points?start=${T - 600_000}&end=${T + 600_000}&${qs}`);

  it('returns the stored points newest first, with exemplars, flags and exact times', async () => {
    const r = await points('name=memory.usage&filter=pod=p1');
    expect(r.status).toBe(200);
    expect(r.body.type).toBe('gauge');
    expect(r.body.points.map((p) => p.value)).toEqual([50, 50, 50, 50, 40, 30, 20, 10]);
    expect(r.body.points.at(-1)).toEqual({
      time: at(0),
      startTime: nsAt(T - 600_000),
      serviceName: 'api',
      attributes: { pod: 'p1' },
      resourceAttributes: { 'service.name': 'api' },
      resourceSchemaUrl: '',
      scopeName: 'meter',
      scopeVersion: '1',
      scopeAttributes: {},
      scopeSchemaUrl: '',
      flags: 1,
      value: 10,
      exemplars: [{ time: at(0, -500), value: 12.5, traceId: EXEMPLAR_TRACE, spanId: 'eee19b7ec3c1b174', filteredAttributes: { 'user.id': 'u1' } }],
    });
  });

  /** The fields every stored point has, as base() wrote them. */
  const stored = (k: number, attributes: Attrs, start = nsAt(T - 600_000)) => ({
    time: at(k),
    startTime: start,
    serviceName: 'api',
    attributes,
    resourceAttributes: { 'service.name': 'api' },
    resourceSchemaUrl: '',
    scopeName: 'meter',
    scopeVersion: '1',
    scopeAttributes: {},
    scopeSchemaUrl: '',
    flags: 0,
  });

  it('gives each type its own fields: histogram buckets, exponential buckets, summary quantiles, sum temporality', async () => {
    const hist = (await points('name=http.server.duration&limit=1')).body;
    expect(hist.truncated).toBe(true);
    expect(Object.keys(hist.points[0]!)).toEqual(expect.arrayContaining(['count', 'sum', 'min', 'max', 'bucketCounts', 'explicitBounds', 'temporality', 'exemplars']));
    expect(hist.points[0]!.explicitBounds).toEqual([0.1, 0.5, 1]);
    // p2's newest point: restarted at k = 6, holding [1, 0, 0, 0] with sum 0.05.
    const histP2: MetricPoint = {
      ...stored(7, { pod: 'p2' }, at(6)),
      count: '1',
      sum: 0.05,
      min: 0,
      max: 0,
      bucketCounts: ['1', '0', '0', '0'],
      explicitBounds: [0.1, 0.5, 1],
      temporality: 'cumulative',
      exemplars: [],
    };
    expect((await points('name=http.server.duration&filter=pod=p2&limit=1')).body.points).toEqual([histP2]);
    // expSized(7, [2, 6], [1], 1): 2 + 6 positive, 1 negative, 1 zero; scale 0.
    const exp = (await points('name=exp.size&limit=1')).body.points[0]!;
    expect(exp).toEqual(expect.objectContaining({ scale: 0, zeroCount: '1', positive: expect.objectContaining({ offset: 0 }) }));
    const expNewest: MetricPoint = {
      ...stored(7, {}),
      count: '10',
      sum: 0,
      min: 0,
      max: 0,
      scale: 0,
      zeroCount: '1',
      positive: { offset: 0, bucketCounts: ['2', '6'] },
      negative: { offset: 0, bucketCounts: ['1'] },
      temporality: 'cumulative',
      exemplars: [],
    };
    expect(exp).toEqual(expNewest);
    // summary(2, 20, 5, [0.25, 0.95]) over quantiles 0.5 and 0.99.
    const summary = (await points('name=gc.pause&limit=1')).body.points[0]!;
    expect(summary.quantiles).toEqual(expect.arrayContaining([expect.objectContaining({ quantile: 0.5, value: 0.25 })]));
    const summaryNewest: MetricPoint = {
      ...stored(2, {}),
      count: '20',
      sum: 5,
      quantiles: [
        { quantile: 0.5, value: 0.25 },
        { quantile: 0.99, value: 0.95 },
      ],
    };
    expect(summary).toEqual(summaryNewest);
    const counter = (await points('name=jobs.processed&limit=1')).body.points[0]!;
    expect([counter.temporality, counter.monotonic, counter.value]).toEqual(['delta', true, 30]);
    const counterNewest: MetricPoint = { ...stored(11, {}), value: 30, temporality: 'delta', monotonic: true, exemplars: [] };
    expect(counter).toEqual(counterNewest);
  });

  it('answers an unknown metric with no points, and bad parameters with a 400', async () => {
    expect((await points('name=nope')).body).toEqual({ name: 'nope', type: null, points: [], truncated: false });
    expect((await h.get('/api/v1/metrics/points')).status).toBe(400);
    expect((await points('name=memory.usage&limit=0')).status).toBe(400);
    expect((await points('name=memory.usage&filter=pod=~(')).status).toBe(400);
  });
});

describe('GET /api/v1/metrics/query: counters', () => {
  it('rate per second, per label set, with a counter restart handled per series', async () => {
    const r = await query('name=http.server.requests');
    expect(r).toMatchObject({ type: 'sum', agg: 'rate', stepMs: 60_000, truncated: false });
    expect(r.series.map((s) => s.labels)).toEqual([
      { ServiceName: 'api', route: '/a' },
      { ServiceName: 'api', route: '/b' },
    ]);
    expect(r.series[0]!.points.map(([t]) => t)).toEqual([T, T + 60_000, T + 120_000]);
    // /a = p1 (1/s) + p2 (2/s); in step 1 p2 gains 30 + 30 + 5 (restart at 5) + 30 = 95 in 60 s.
    expect(values(r)).toEqual([
      [3, r9(1 + 95 / 60), 3],
      [0.5, 0.5, 0.5],
    ]);
  });

  it('increase, group by, and label filters (=, !=, =~, !~)', async () => {
    expect(values(await query('name=http.server.requests&agg=increase&filter=route=/a'))).toEqual([[180, 155, 180]]);
    const merged = await query('name=http.server.requests&groupBy=');
    expect(merged.series.map((s) => s.labels)).toEqual([{}]);
    expect(values(merged)).toEqual([[3.5, r9(1.5 + 95 / 60), 3.5]]);
    const byRoute = await query('name=http.server.requests&groupBy=route');
    expect(byRoute.series.map((s) => s.labels)).toEqual([{ route: '/a' }, { route: '/b' }]);
    const labels = async (q: string) => (await query(`name=http.server.requests&groupBy=route&${q}`)).series.map((s) => s.labels['route']);
    expect(await labels('filter=route!=/a')).toEqual(['/b']);
    expect(await labels('filter=route=~/(a|b)')).toEqual(['/a', '/b']);
    expect(await labels('filter=route=~/')).toEqual([]); // anchored: the whole value must match
    expect(await labels('filter=route!~/a')).toEqual(['/b']);
    expect(await labels('filter=ServiceName=api&filter=route=/b')).toEqual(['/b']);
    expect(await labels('filter=ServiceName=other')).toEqual([]);
  });

  it('delta counters: increase is the sum per step, rate divides by the step', async () => {
    expect(values(await query('name=jobs.processed&agg=increase'))).toEqual([[120, 120, 120]]);
    expect(values(await query('name=jobs.processed'))).toEqual([[2, 2, 2]]);
  });

  it('a bad regular expression is a 400 naming the filter', async () => {
    const r = await h.get<ErrorResponse>(`/api/v1/metrics/query?name=http.server.requests&start=${T}&end=${T + 60_000}&filter=route=~(`);
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('querystring/filter');
  });
});

describe('GET /api/v1/metrics/query: gauges', () => {
  const g = (agg: string) => query(`name=memory.usage&groupBy=&agg=${agg}`, 2).then(values);
  it('avg, min, max, sum (of latest values), last and count per step', async () => {
    expect(await g('avg')).toEqual([[62.5, 75]]); // avg of the series' averages: (25 + 100) / 2, (50 + 100) / 2
    expect(await g('min')).toEqual([[10, 50]]);
    expect(await g('max')).toEqual([[100, 100]]);
    expect(await g('sum')).toEqual([[140, 150]]);
    expect(await g('last')).toEqual([[100, 100]]);
    expect(await g('count')).toEqual([[8, 8]]);
  });
  it('keeps series apart without groupBy', async () => {
    const r = await query('name=memory.usage&agg=max', 2);
    expect(r.series.map((s) => s.labels)).toEqual([
      { ServiceName: 'api', pod: 'p1' },
      { ServiceName: 'api', pod: 'p2' },
    ]);
    expect(values(r)).toEqual([
      [40, 50],
      [100, 100],
    ]);
  });
});

describe('GET /api/v1/metrics/query: histograms', () => {
  const hq = (q: string) => query(`name=http.server.duration&groupBy=&${q}`, 2).then(values);
  it('quantiles from bucket increases merged across series, as histogram_quantile', async () => {
    // Step 0 merged: [20, 0, 30, 10] over (0,0.1] (0.1,0.5] (0.5,1] (1,+Inf], 60 observations.
    // p50: rank 30 falls in (0.5,1] holding 30 with 20 below: 0.5 + 0.5 × 10/30.
    // Step 1 merged: [1, 20, 0, 0]; p50: rank 10.5 in (0.1,0.5] with 1 below: 0.1 + 0.4 × 9.5/20.
    expect(await hq('agg=p50')).toEqual([[r9(0.5 + 0.5 * (10 / 30)), r9(0.1 + 0.4 * (9.5 / 20))]]);
    // p90 of step 0: rank 54 is past the last finite bound: the largest finite bound.
    expect((await hq('agg=p90'))[0]![0]).toBe(1);
    // q = 0.25: rank 15 in (0, 0.1]: 0.1 × 15/20.
    expect((await hq('agg=quantile&q=0.25'))[0]![0]).toBe(r9(0.1 * (15 / 20)));
  });

  it('keeps an empty bucket between two full ones as an interpolation bound', async () => {
    // p1 alone in step 0: [10, 0, 30, 10]; p50: rank 25 in (0.5,1] with 10 below: 0.5 + 0.5 × 15/30 (0.55 if the empty bucket were lost).
    const r = await query('name=http.server.duration&agg=p50&filter=pod=p1', 2);
    expect(values(r)[0]![0]).toBe(0.75);
  });

  it('avg, count, sum and rate from Count and Sum increases', async () => {
    expect(await hq('agg=count')).toEqual([[60, 21]]);
    expect(await hq('agg=sum')).toEqual([[40.5, r9(8 + 0.05)]]);
    expect(await hq('agg=avg')).toEqual([[0.675, r9(8.05 / 21)]]);
    // Per series: p1 50 in 60 s, p2 10 in 60 s.
    expect((await hq('agg=rate'))[0]![0]).toBe(1);
  });

  it('delta histograms: buckets summed per step', async () => {
    // [1, 4, 1] over (-,1] (1,10] (10,+Inf]; p50: rank 3 in (1,10] with 1 below: 1 + 9 × 2/4.
    expect(values(await query('name=rpc.duration&agg=p50', 1))).toEqual([[5.5]]);
  });
});

describe('GET /api/v1/metrics/query: summaries and exponential histograms', () => {
  it('summary quantiles are the stored values (latest in the step); an unstored quantile has no points', async () => {
    expect(values(await query('name=gc.pause&agg=p50', 1))).toEqual([[0.25]]);
    expect(values(await query('name=gc.pause&agg=p99', 1))).toEqual([[0.95]]);
    expect((await query('name=gc.pause&agg=p90', 1)).series).toEqual([]);
    expect(values(await query('name=gc.pause&agg=avg', 1))).toEqual([[0.25]]);
  });
  it('exponential histogram quantiles from bucket bounds base^i, a zero bucket at 0 and negative buckets', async () => {
    // Step 0, 6 observations: p10 rank 0.6 in [-2,-1): -2 + 1 × 0.6; p50 rank 3 in (1,2] with 2 below: 1 + 1 × 1/2;
    // p90 rank 5.4 in (2,4] with 4 below: 2 + 2 × 1.4/2. Step 1, 4 observations all in (2,4]: 2 + 2 × rank/4.
    expect(values(await query('name=exp.size&agg=quantile&q=0.1', 1))).toEqual([[-1.4]]);
    expect(values(await query('name=exp.size&agg=p50', 2))).toEqual([[1.5, 3]]);
    expect(values(await query('name=exp.size&agg=p90', 2))).toEqual([[3.4, 3.8]]);
    // p25: rank 1.5 falls on the zero bucket.
    expect(Math.abs(values(await query('name=exp.size&agg=quantile&q=0.25', 1))[0]![0]!)).toBeLessThan(1e-12);
  });
  it('exponential histograms: count, sum, avg', async () => {
    expect(values(await query('name=exp.latency&agg=count', 1))).toEqual([[8]]);
    expect(values(await query('name=exp.latency&agg=sum', 1))).toEqual([[20]]);
    expect(values(await query('name=exp.latency', 1))).toEqual([[2.5]]);
  });
});

describe('GET /api/v1/metrics/query: parameters', () => {
  it('an unknown metric gives no series', async () => {
    expect(await query('name=nope')).toMatchObject({ type: null, series: [] });
    expect(await query('name=nope&agg=p95')).toEqual({ name: 'nope', type: null, agg: 'p95', stepMs: 60_000, series: [], truncated: false });
  });
  it('refuses aggregations that do not apply, unknown ones, a missing name and too many points', async () => {
    const cases: [string, string][] = [
      ['name=memory.usage&agg=rate', 'querystring/agg'],
      ['name=jobs.processed&agg=avg', 'querystring/agg'],
      ['name=http.server.duration&agg=quantile', 'querystring/q'],
      ['name=http.server.duration&agg=median', 'querystring/agg'],
      ['name=http.server.duration&agg=quantile&q=1.5', 'querystring/q'],
      ['agg=avg', 'querystring/name'],
      [`name=memory.usage&start=${T - 86_400_000}&end=${T}&step=1s`, 'querystring/step'],
      ['name=memory.usage&step=0.5s', 'querystring/step'],
      ['name=memory.usage&limit=1001', 'querystring/limit'],
    ];
    for (const [q, name] of cases) {
      const r = await h.get<ErrorResponse>(`/api/v1/metrics/query?${q}${q.includes('start=') ? '' : `&start=${T}&end=${T + 60_000}`}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.message, q).toContain(name);
    }
  });
  it('chooses a step for about 300 points when none is given', async () => {
    const r = await h.get<MetricSeriesResponse>(`/api/v1/metrics/query?name=memory.usage&start=${T - 86_400_000}&end=${T}`);
    expect(r.body.stepMs).toBe(300_000);
  });
  it('limits the number of series', async () => {
    const r = await query('name=http.server.requests&limit=1');
    expect(r.series).toHaveLength(1);
    expect(r.truncated).toBe(true);
  });
});

describe('GET /api/v1/metrics/query: defaults', () => {
  it('a histogram without agg gets p95, not a 400 asking for q', async () => {
    const r = await query('name=http.server.duration&groupBy=', 1);
    expect(r.agg).toBe('quantile(0.95)');
    // Step 0 merged: [20, 0, 30, 10], 60 observations; rank 57 is past the last finite bound: 1.
    expect(values(r)).toEqual([[1]]);
  });
});

describe('GET /api/v1/metrics/label-values', () => {
  const lv = (qs: string) => h.get<MetricLabelValuesResponse>(`/api/v1/metrics/label-values?start=${T - 600_000}&end=${T + 600_000}&${qs}`);

  it('lists the values of an attribute, most series first, with series counts', async () => {
    // route /a has two true series (pods p1 and p2 in the resource), /b one.
    const r = await lv('name=http.server.requests&key=route');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      name: 'http.server.requests',
      type: 'sum',
      key: 'route',
      values: [
        { value: '/a', series: 2 },
        { value: '/b', series: 1 },
      ],
      truncated: false,
    });
    expect((await lv('name=memory.usage&key=ServiceName')).body.values).toEqual([{ value: 'api', series: 2 }]);
  });

  it('narrows by the other filters and a search, and limits', async () => {
    expect((await lv('name=memory.usage&key=pod&filter=pod!=p1')).body.values.map((v) => v.value)).toEqual(['p2']);
    expect((await lv('name=http.server.requests&key=route&search=B')).body.values.map((v) => v.value)).toEqual(['/b']);
    const one = await lv('name=http.server.requests&key=route&limit=1');
    expect(one.body).toMatchObject({ values: [{ value: '/a', series: 2 }], truncated: true });
  });

  it('a key the metric does not have, or an unknown metric, has no values', async () => {
    expect((await lv('name=memory.usage&key=route')).body.values).toEqual([]);
    expect((await lv('name=nope&key=route')).body).toEqual({ name: 'nope', type: null, key: 'route', values: [], truncated: false });
  });

  it('refuses a missing key or name, a bad limit and a bad filter with a 400 naming it', async () => {
    const cases: [string, string][] = [
      ['name=memory.usage', 'querystring'],
      ['key=pod', 'querystring'],
      ['name=memory.usage&key=pod&limit=1001', 'querystring/limit'],
      ['name=memory.usage&key=pod&filter=pod', 'querystring/filter'],
      ['name=memory.usage&key=pod&filter=pod=~(', 'querystring/filter'],
      [`name=memory.usage&key=${'k'.repeat(257)}`, 'querystring/key'],
    ];
    for (const [qs, name] of cases) {
      const r = await lv(qs) as unknown as { status: number; body: ErrorResponse };
      expect(r.status, qs).toBe(400);
      expect(r.body.error.message, qs).toContain(name);
    }
  });

  it('is documented in OpenAPI and answers 401 without the bearer token', async () => {
    const doc = await h.get<{ paths: Record<string, { get?: { parameters?: { name: string }[] } }> }>('/openapi.json');
    const params = doc.body.paths['/api/v1/metrics/label-values']?.get?.parameters?.map((p) => p.name);
    expect(params).toEqual(expect.arrayContaining(['name', 'key', 'filter', 'search', 'limit', 'start', 'end']));
    // The same store behind an app that requires a token.
    const secured = await buildQueryApp({ store: h.store, authTokens: ['t0k3n'], log: silentLogger(), metrics: createMetrics(), notReady: () => undefined });
    try {
      const url = '/api/v1/metrics/label-values?name=memory.usage&key=pod';
      expect((await secured.inject({ url })).statusCode).toBe(401);
      expect((await secured.inject({ url, headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401);
      expect((await secured.inject({ url, headers: { authorization: 'Bearer t0k3n' } })).statusCode).toBe(200);
    } finally {
      await secured.close();
    }
  });
});
