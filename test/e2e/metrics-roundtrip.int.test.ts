/**
 * Metrics recorded with the official OpenTelemetry JS SDK and sent by its exporters (OTLP http/json,
 * http/protobuf and gRPC) are stored for every type the SDK produces (sum, gauge, histogram, exponential
 * histogram) and read back through the query API with the expected values: the catalogue (type, unit,
 * description, temporality, label keys), gauge values, counter increases and rates across two exports, a
 * histogram quantile worked out by hand from the bucket bounds, exponential histogram count and sum. A summary,
 * which the JS SDK cannot produce, is sent as a hand-built OTLP/JSON request. The stored data points themselves
 * (bucket counts and bounds, scale and offsets, quantiles, resource and scope, nanosecond times) are read back
 * through /api/v1/metrics/points.
 */
import { type Attributes, type HrTime, ValueType } from '@opentelemetry/api';
import { OTLPMetricExporter as GrpcExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, AggregationType, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestPlatform, getJson, startTestPlatform } from '../support/platform.ts';

let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(async () => {
  await platform?.stop();
});

// Data point attributes of several types, and their stored string form.
const CHECKOUT: Attributes = { 'http.route': '/checkout', 'http.status_code': 200, 'ratio': 0.25, 'cached': true, 'tags': ['a', 'b'] };
const CHECKOUT_STORED = { 'http.route': '/checkout', 'http.status_code': '200', 'ratio': '0.25', 'cached': 'true', 'tags': '["a","b"]' };
const CART: Attributes = { ...CHECKOUT, 'http.route': '/cart' };
const CART_STORED = { ...CHECKOUT_STORED, 'http.route': '/cart' };
const LABELS = ['ServiceName', 'cached', 'http.route', 'http.status_code', 'ratio', 'tags'];

const BOUNDS = [0, 5, 10, 25, 50, 100];
const RESOURCE_SCHEMA = 'https://opentelemetry.io/schemas/1.29.0';
const SCOPE_SCHEMA = 'https://opentelemetry.io/schemas/1.30.0';

type Series = { labels: Record<string, string>; points: [number, number][] };
type Json = Record<string, any>;

const exporters: [string, (platform: TestPlatform) => PushMetricExporter][] = [
  ['http/json', (p) => new JsonExporter({ url: `${p.otlpHttpUrl}/v1/metrics` })],
  ['http/protobuf', (p) => new ProtoExporter({ url: `${p.otlpHttpUrl}/v1/metrics` })],
  ['grpc', (p) => new GrpcExporter({ url: p.grpcUrl })],
];

async function metricsApi(path: string, params: Record<string, string | string[]>): Promise<Json> {
  const u = new URL(`${platform.apiUrl}${path}`);
  for (const [k, v] of Object.entries(params)) for (const one of [v].flat()) u.searchParams.append(k, one);
  const { status, body } = await getJson(u.toString());
  expect(status, JSON.stringify(body)).toBe(200);
  return body;
}

/** The stored points of one metric through the API, oldest first. */
async function storedPoints(metric: string, service: string, range: { start: string; end: string }): Promise<Json[]> {
  const body = await metricsApi('/api/v1/metrics/points', { name: metric, start: range.start, end: range.end, filter: `ServiceName=${service}`, limit: '1000' });
  expect(body.truncated).toBe(false);
  return (body.points as Json[]).sort((a, b) => (BigInt(a.time) < BigInt(b.time) ? -1 : BigInt(a.time) > BigInt(b.time) ? 1 : 0));
}

/** Some fields of each object. */
const pick = (objs: Json[], keys: string[]) => objs.map((o) => Object.fromEntries(keys.map((k) => [k, o[k]])));

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const hrNs = ([s, n]: HrTime) => (BigInt(s) * 1_000_000_000n + BigInt(n)).toString();

/** A point's identity and times as the SDK exported it (or as stored): `name route start time`. */
type PointTimes = string;

/** Records the start and end time of every data point the exporter is given, then exports as usual. */
function recordTimes(exporter: PushMetricExporter, into: PointTimes[]): PushMetricExporter {
  const original = exporter.export.bind(exporter);
  exporter.export = (metrics, done) => {
    for (const sm of metrics.scopeMetrics) {
      for (const m of sm.metrics) {
        for (const dp of m.dataPoints) into.push(`${m.descriptor.name} ${String(dp.attributes['http.route'])} ${hrNs(dp.startTime)} ${hrNs(dp.endTime)}`);
      }
    }
    original(metrics, done);
  };
  return exporter;
}

describe.each(exporters)('metrics over OTLP %s', (protocol, make) => {
  const tag = protocol.replace('/', '-');
  const service = `metrics-${tag}`;
  const name = (n: string) => `rt.${tag}.${n}`;
  const range = { start: '', end: '' };
  const sentTimes: PointTimes[] = [];
  /** One series query of this service's metric; the range covers both exports. */
  const query = async (metric: string, params: Record<string, string | string[]>) => {
    const body = await metricsApi('/api/v1/metrics/query', { name: name(metric), start: range.start, end: range.end, filter: `ServiceName=${service}`, ...params });
    return body as { type: string; agg: string; series: Series[]; truncated: boolean };
  };
  /** The value of the last point of the only series (cumulative samples a step boundary apart give two points). */
  const lastValue = (s: Series[]) => {
    expect(s).toHaveLength(1);
    return s[0]!.points.at(-1)?.[1];
  };
  /** Sum of a series' points: increases and counts do not depend on where the step boundaries fall. */
  const total = (s: Series | undefined) => (s?.points ?? []).reduce((n, p) => n + p[1], 0);

  beforeAll(async () => {
    range.start = String(Date.now() - 60_000);
    const mp = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'k8s.namespace.name': 'shop', 'host.cpu.count': 8 }, { schemaUrl: RESOURCE_SCHEMA }),
      // Exports happen only on forceFlush and shutdown: two of them, so cumulative values have a sample to increase from.
      readers: [new PeriodicExportingMetricReader({ exporter: recordTimes(make(platform), sentTimes), exportIntervalMillis: 3_600_000, exportTimeoutMillis: 30_000 })],
      views: [{ instrumentName: name('payload_size'), aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
    });
    const meter = mp.getMeter('roundtrip-meter', '3.0.0', { schemaUrl: SCOPE_SCHEMA });
    const requests = meter.createCounter(name('requests'), { unit: '{request}', description: 'Requests served', valueType: ValueType.INT });
    const inflight = meter.createUpDownCounter(name('inflight'), { unit: '{request}', description: 'Requests in flight' });
    const temperature = meter.createGauge(name('temperature'), { unit: 'Cel', description: 'Room temperature' });
    const queueDepth = meter.createObservableGauge(name('queue_depth'), { unit: '{item}', description: 'Items queued' });
    const latency = meter.createHistogram(name('latency'), { unit: 'ms', description: 'Request latency', advice: { explicitBucketBoundaries: BOUNDS } });
    const payload = meter.createHistogram(name('payload_size'), { unit: 'By', description: 'Payload size' });
    let depth = 4;
    queueDepth.addCallback((r) => r.observe(depth, CHECKOUT));

    // Export 1.
    requests.add(5, CHECKOUT);
    requests.add(1, CART);
    inflight.add(10, CHECKOUT);
    inflight.add(-3, CHECKOUT);
    temperature.record(19.25, CHECKOUT);
    latency.record(3, CHECKOUT);
    payload.record(0, CHECKOUT);
    payload.record(1, CHECKOUT);
    await mp.forceFlush();
    // Distinct sample times, so a rate has a time span to divide by.
    await wait(20);

    // Export 2.
    requests.add(7, CHECKOUT);
    requests.add(2, CART);
    inflight.add(-10, CHECKOUT);
    temperature.record(21.5, CHECKOUT);
    depth = 9;
    for (const v of [7, 12, 20, 30, 40, 80, 200]) latency.record(v, CHECKOUT);
    for (const v of [2, 4, 8]) payload.record(v, CHECKOUT);
    // Shutdown collects and exports once more (a forceFlush before it would store every cumulative point twice).
    await mp.shutdown();
    await platform.inserted();
    range.end = String(Date.now() + 1000);
  });

  it('lists every metric with its type, unit, description, temporality and label keys', async () => {
    const { metrics } = await metricsApi('/api/v1/metrics', { search: `rt.${tag}.`, start: range.start, end: range.end });
    expect(metrics).toEqual([
      { name: name('inflight'), type: 'sum', unit: '{request}', description: 'Requests in flight', temporality: 'cumulative', monotonic: false, labels: LABELS },
      { name: name('latency'), type: 'histogram', unit: 'ms', description: 'Request latency', temporality: 'cumulative', monotonic: false, labels: LABELS },
      {
        name: name('payload_size'),
        type: 'exponential_histogram',
        unit: 'By',
        description: 'Payload size',
        temporality: 'cumulative',
        monotonic: false,
        labels: LABELS,
      },
      { name: name('queue_depth'), type: 'gauge', unit: '{item}', description: 'Items queued', temporality: 'unspecified', monotonic: false, labels: LABELS },
      { name: name('requests'), type: 'sum', unit: '{request}', description: 'Requests served', temporality: 'cumulative', monotonic: true, labels: LABELS },
      { name: name('temperature'), type: 'gauge', unit: 'Cel', description: 'Room temperature', temporality: 'unspecified', monotonic: false, labels: LABELS },
    ]);
  });

  it('a monotonic counter: increase and rate between the two exports, per label set', async () => {
    const inc = await query('requests', { agg: 'increase' });
    expect(inc.type).toBe('sum');
    expect(inc.series.map((s) => s.labels)).toEqual([
      { ...CART_STORED, ServiceName: service },
      { ...CHECKOUT_STORED, ServiceName: service },
    ]);
    expect(inc.series.map(total)).toEqual([2, 7]);

    const filtered = await query('requests', { agg: 'increase', filter: [`ServiceName=${service}`, 'http.route=/checkout', 'http.status_code=200'] });
    expect(filtered.series.map(total)).toEqual([7]);

    // rate = increase / seconds between the two samples, as stored.
    const times = (await storedPoints(name('requests'), service, range)).filter((p) => p.attributes['http.route'] === '/checkout');
    expect(times.map((p) => p.value)).toEqual([5, 12]);
    const seconds = Number(BigInt(times[1]!.time) - BigInt(times[0]!.time)) / 1e9;
    expect(seconds).toBeGreaterThan(0);
    const rate = await query('requests', { agg: 'rate', filter: [`ServiceName=${service}`, 'http.route=/checkout'] });
    expect(rate.series).toHaveLength(1);
    expect(rate.series[0]!.points).toHaveLength(1);
    expect(rate.series[0]!.points[0]![1]).toBeCloseTo(7 / seconds, 9);

    expect(lastValue((await query('requests', { agg: 'last', filter: [`ServiceName=${service}`, 'http.route=/checkout'] })).series)).toBe(12);
  });

  it('an up-down counter: its last value and its net change', async () => {
    const last = await query('inflight', { agg: 'last' });
    expect(last.type).toBe('sum');
    expect(last.series[0]!.labels).toEqual({ ...CHECKOUT_STORED, ServiceName: service });
    expect(lastValue(last.series)).toBe(-3);
    expect((await query('inflight', { agg: 'increase' })).series.map(total)).toEqual([-10]);
  });

  it('gauges, synchronous and observable: the value recorded last, exactly', async () => {
    const t = await query('temperature', { agg: 'last' });
    expect(t.type).toBe('gauge');
    expect(lastValue(t.series)).toBe(21.5);
    expect((await query('temperature', { agg: 'count' })).series.map(total)).toEqual([2]);
    expect(lastValue((await query('queue_depth', { agg: 'last' })).series)).toBe(9);
    expect((await storedPoints(name('queue_depth'), service, range)).map((p) => p.value)).toEqual([4, 9]);
    expect((await storedPoints(name('temperature'), service, range)).map((p) => p.value)).toEqual([19.25, 21.5]);
  });

  it('an explicit-bucket histogram: quantiles from the bucket counts gained between exports', async () => {
    // Gained in export 2: 7 → (5,10], 12 and 20 → (10,25], 30 and 40 → (25,50], 80 → (50,100], 200 → (100,+Inf).
    // Per bucket [0,0,1,2,2,1,1], cumulative [0,0,1,3,5,6,7], total 7.
    // p50: rank 3.5 falls in (25,50] (3 below it, 2 in it): 25 + 25 × (3.5 − 3) / 2 = 31.25.
    // q=0.8: rank 5.6 falls in (50,100] (5 below, 1 in it): 50 + 50 × 0.6 = 80.
    // p99: rank 6.93 is in the +Inf bucket: the largest finite bound, 100.
    const p50 = await query('latency', { agg: 'p50' });
    expect(p50).toMatchObject({ type: 'histogram', agg: 'quantile(0.5)' });
    expect(p50.series.map((s) => s.points.map((p) => p[1]))).toEqual([[31.25]]);
    expect(lastValue((await query('latency', { agg: 'quantile', q: '0.8' })).series)).toBeCloseTo(80, 9);
    expect(lastValue((await query('latency', { agg: 'p99' })).series)).toBe(100);
    expect(lastValue((await query('latency', { agg: 'count' })).series)).toBe(7);
    expect(lastValue((await query('latency', { agg: 'sum' })).series)).toBe(389);
    expect(lastValue((await query('latency', { agg: 'avg' })).series)).toBeCloseTo(389 / 7, 12);
  });

  it('an explicit-bucket histogram: bucket counts, bounds, count, sum, min and max as exported', async () => {
    const stored = pick(await storedPoints(name('latency'), service, range), ['count', 'sum', 'bucketCounts', 'explicitBounds', 'min', 'max', 'temporality', 'attributes']);
    const common = { explicitBounds: BOUNDS, temporality: 'cumulative', attributes: CHECKOUT_STORED };
    expect(stored).toEqual([
      { ...common, count: '1', sum: 3, bucketCounts: ['0', '1', '0', '0', '0', '0', '0'], min: 3, max: 3 },
      { ...common, count: '8', sum: 392, bucketCounts: ['0', '1', '1', '2', '2', '1', '1'], min: 3, max: 200 },
    ]);
  });

  it('an exponential histogram: count, sum and average gained between exports, and its buckets as exported', async () => {
    const count = await query('payload_size', { agg: 'count' });
    expect(count.type).toBe('exponential_histogram');
    expect(lastValue(count.series)).toBe(3);
    expect(lastValue((await query('payload_size', { agg: 'sum' })).series)).toBe(14);
    expect(lastValue((await query('payload_size', { agg: 'avg' })).series)).toBeCloseTo(14 / 3, 12);

    // Export 1 holds 0 (the zero bucket) and 1: at the SDK's largest scale, 20, 1 = 2^0 is in bucket −1.
    // Export 2 adds 2, 4 and 8: 2^k is in bucket k·2^scale − 1, and 160 buckets (the SDK's default size) hold
    // −1 … 3·2^scale − 1 down to scale 5 (97 buckets), so 1, 2, 4, 8 land 32 buckets apart from offset −1.
    const stored = pick(await storedPoints(name('payload_size'), service, range), ['count', 'sum', 'scale', 'zeroCount', 'positive', 'negative', 'min', 'max', 'temporality']);
    const buckets = Array.from({ length: 97 }, (_, i) => (i % 32 === 0 ? '1' : '0'));
    const common = { zeroCount: '1', negative: { offset: 0, bucketCounts: [] }, min: 0, temporality: 'cumulative' };
    expect(stored).toEqual([
      { ...common, count: '2', sum: 1, scale: 20, positive: { offset: -1, bucketCounts: ['1'] }, max: 1 },
      { ...common, count: '5', sum: 15, scale: 5, positive: { offset: -1, bucketCounts: buckets }, max: 8 },
    ]);
  });

  it('keeps resource, scope and the sum flags of every point', async () => {
    const keys = ['resourceAttributes', 'resourceSchemaUrl', 'scopeName', 'scopeVersion', 'scopeSchemaUrl', 'monotonic', 'temporality'];
    const common = {
      resourceAttributes: { 'service.name': service, 'k8s.namespace.name': 'shop', 'host.cpu.count': '8' },
      resourceSchemaUrl: RESOURCE_SCHEMA,
      scopeName: 'roundtrip-meter',
      scopeVersion: '3.0.0',
      scopeSchemaUrl: SCOPE_SCHEMA,
      temporality: 'cumulative',
    };
    expect(pick(await storedPoints(name('inflight'), service, range), keys)).toEqual(Array(2).fill({ ...common, monotonic: false }));
    expect(pick(await storedPoints(name('requests'), service, range), keys)).toEqual(Array(4).fill({ ...common, monotonic: true }));
  });

  it('keeps the start and end time of every point exactly as exported, to the nanosecond', async () => {
    const stored: PointTimes[] = [];
    for (const metric of ['requests', 'inflight', 'temperature', 'queue_depth', 'latency', 'payload_size']) {
      for (const p of await storedPoints(name(metric), service, range)) stored.push(`${name(metric)} ${p.attributes['http.route']} ${p.startTime} ${p.time}`);
    }
    // 2 exports × (2 counter series + up-down counter + 2 gauges + 2 histograms).
    expect(sentTimes).toHaveLength(14);
    expect(stored.sort()).toEqual([...sentTimes].sort());
  });
});

describe('metrics with delta temporality over OTLP http/protobuf', () => {
  const service = 'metrics-delta';
  const range = { start: '', end: '' };
  const query = (metric: string, params: Record<string, string>) =>
    metricsApi('/api/v1/metrics/query', { name: metric, start: range.start, end: range.end, filter: `ServiceName=${service}`, ...params });
  const points = (body: Json) => (body.series as Series[]).flatMap((s) => s.points.map((p) => p[1]));

  beforeAll(async () => {
    range.start = String(Date.now() - 60_000);
    const exporter = new ProtoExporter({ url: `${platform.otlpHttpUrl}/v1/metrics`, temporalityPreference: AggregationTemporality.DELTA });
    const mp = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })],
    });
    const meter = mp.getMeter('delta-meter');
    const requests = meter.createCounter('rt.delta.requests', { unit: '{request}' });
    const latency = meter.createHistogram('rt.delta.latency', { unit: 'ms', advice: { explicitBucketBoundaries: BOUNDS } });
    requests.add(5, CHECKOUT);
    await mp.forceFlush();
    requests.add(7, CHECKOUT);
    // Only in the second export: a delta histogram point holds just what was recorded since the previous one.
    for (const v of [3, 7, 12, 20, 30, 40, 80, 200]) latency.record(v, CHECKOUT);
    await mp.shutdown();
    await platform.inserted();
    range.end = String(Date.now() + 1000);
  });

  it('keeps each export\'s own increments with temporality delta', async () => {
    const sums = pick(await storedPoints('rt.delta.requests', service, range), ['value', 'temporality', 'monotonic']);
    expect(sums).toEqual([
      { value: 5, temporality: 'delta', monotonic: true },
      { value: 7, temporality: 'delta', monotonic: true },
    ]);
    const hist = pick(await storedPoints('rt.delta.latency', service, range), ['count', 'bucketCounts', 'temporality']);
    expect(hist).toEqual([{ count: '8', bucketCounts: ['0', '1', '1', '2', '2', '1', '1'], temporality: 'delta' }]);
    const { metrics } = await metricsApi('/api/v1/metrics', { search: 'rt.delta.', start: range.start, end: range.end });
    expect(metrics.map((m: Json) => [m.name, m.type, m.temporality, m.monotonic])).toEqual([
      ['rt.delta.latency', 'histogram', 'delta', false],
      ['rt.delta.requests', 'sum', 'delta', true],
    ]);
  });

  it('answers increase, rate and quantiles from the delta points', async () => {
    expect(points(await query('rt.delta.requests', { agg: 'increase' })).reduce((a, b) => a + b, 0)).toBe(12);
    // rate per step = the step's sum / step seconds.
    expect(points(await query('rt.delta.requests', { agg: 'rate', step: '1h' })).reduce((a, b) => a + b, 0) * 3600).toBeCloseTo(12, 9);
    // Counts [0,1,1,2,2,1,1], cumulative [0,1,2,4,6,7,8]: p50 rank 4 is the top of (10,25] (2 below, 2 in it) = 25;
    // q=0.75 rank 6 is the top of (25,50] = 50.
    expect(points(await query('rt.delta.latency', { agg: 'p50' }))).toEqual([25]);
    expect(points(await query('rt.delta.latency', { agg: 'quantile', q: '0.75' }))).toEqual([50]);
    expect(points(await query('rt.delta.latency', { agg: 'count' }))).toEqual([8]);
    expect(points(await query('rt.delta.latency', { agg: 'sum' }))).toEqual([392]);
  });
});

describe('a summary sent as OTLP/JSON (the JS SDK has no summary instrument)', () => {
  const service = 'metrics-summary';
  const metric = 'rt.summary.rpc_duration';
  // Both points inside one 10-minute step, so each aggregation gives exactly one point.
  const base = Math.floor((Date.now() / 1000 - 1200) / 600) * 600;
  const t1 = `${base + 60}111111111`;
  const t2 = `${base + 120}222222222`;
  const start = `${base - 3600}000000007`;
  const point = (time: string, count: string, sum: number, q50: number, q99: number) => ({
    attributes: [{ key: 'rpc.method', value: { stringValue: 'Get' } }],
    startTimeUnixNano: start,
    timeUnixNano: time,
    count,
    sum,
    quantileValues: [
      { quantile: 0, value: 0.5 },
      { quantile: 0.5, value: q50 },
      { quantile: 0.99, value: q99 },
      { quantile: 1, value: 45 },
    ],
  });
  const query = (params: Record<string, string>) =>
    metricsApi('/api/v1/metrics/query', { name: metric, start: String(base * 1000), end: String((base + 599) * 1000), step: '10m', ...params });

  beforeAll(async () => {
    const request = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
          scopeMetrics: [
            {
              scope: { name: 'handmade', version: '0.1' },
              metrics: [
                { name: metric, unit: 's', description: 'RPC duration', summary: { dataPoints: [point(t1, '10', 100, 8, 30), point(t2, '25', 260, 9, 31.5)] } },
              ],
            },
          ],
        },
      ],
    };
    const res = await fetch(`${platform.otlpHttpUrl}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    await platform.inserted();
  });

  it('is stored with its quantiles, count, sum and nanosecond times', async () => {
    const range = { start: String(base * 1000), end: String((base + 599) * 1000) };
    const stored = pick(await storedPoints(metric, service, range), ['startTime', 'time', 'count', 'sum', 'quantiles', 'attributes', 'scopeName']);
    const quantiles = (q50: number, q99: number) =>
      [0.5, q50, q99, 45].map((value, i) => ({ quantile: [0, 0.5, 0.99, 1][i], value }));
    const common = { startTime: start, attributes: { 'rpc.method': 'Get' }, scopeName: 'handmade' };
    expect(stored).toEqual([
      { ...common, time: t1, count: '10', sum: 100, quantiles: quantiles(8, 30) },
      { ...common, time: t2, count: '25', sum: 260, quantiles: quantiles(9, 31.5) },
    ]);
  });

  it('is listed and queryable: stored quantiles, and count and sum gained between points', async () => {
    const { metrics } = await metricsApi('/api/v1/metrics', { search: metric, start: String(base * 1000), end: String((base + 599) * 1000) });
    expect(metrics).toEqual([
      {
        name: metric,
        type: 'summary',
        unit: 's',
        description: 'RPC duration',
        temporality: 'unspecified',
        monotonic: false,
        labels: ['ServiceName', 'rpc.method'],
      },
    ]);
    const at = base * 1000;
    const p99 = await query({ agg: 'p99' });
    expect(p99).toMatchObject({ type: 'summary', agg: 'quantile(0.99)' });
    expect(p99.series).toEqual([{ labels: { 'rpc.method': 'Get', 'ServiceName': service }, points: [[at, 31.5]] }]);
    expect((await query({ agg: 'p50' })).series[0].points).toEqual([[at, 9]]);
    expect((await query({ agg: 'p90' })).series).toEqual([]);
    expect((await query({ agg: 'count' })).series[0].points).toEqual([[at, 15]]);
    expect((await query({ agg: 'sum' })).series[0].points).toEqual([[at, 160]]);
  });
});
