/**
 * Conversion checked through the platform's own OTLP protobuf decoder (#otlp/decode.ts): what the gateway stores
 * from the bytes the agent sends, row by row.
 */
import { describe, expect, it } from 'vitest';
import { decodeProtobuf } from '#otlp/decode.ts';
import type { GaugeRow } from '#otlp/rows.ts';
import { encodeMetricsRequest, splitByPoints } from './otlp-encode.ts';
import { SeriesTracker, type TargetMeta, otelUnit, scrapeHealth, toOtlp } from './otlp.ts';
import { type ExpositionFormat, parseExposition } from './parse.ts';

const target: TargetMeta = {
  job: 'shop/cart',
  instance: '10.0.0.7:8080',
  url: new URL('http://10.0.0.7:8080/metrics'),
  resource: { 'k8s.pod.name': 'cart-1', 'k8s.namespace.name': 'shop' },
};
const T0 = 1_700_000_000_000;
const NS = (ms: number) => (BigInt(Math.round(ms * 1000)) * 1000n).toString();

function convert(body: string, format: ExpositionFormat = 'prometheus', tracker = new SeriesTracker(), at = T0) {
  tracker.begin();
  const { resourceMetrics, stats } = toOtlp(parseExposition(body, format), target, at, tracker);
  tracker.end();
  const decoded = decodeProtobuf('metrics', encodeMetricsRequest([resourceMetrics]));
  const t = decoded.tables;
  return {
    stats,
    accepted: decoded.accepted,
    gauge: (t.otel_metrics_gauge ?? []),
    sum: (t.otel_metrics_sum ?? []),
    histogram: (t.otel_metrics_histogram ?? []),
    summary: (t.otel_metrics_summary ?? []),
  };
}

describe('toOtlp', () => {
  it('puts the target on the resource: service, instance, address, port, scheme, pod attributes, target_info', () => {
    const { gauge } = convert('# TYPE target_info gauge\ntarget_info{region="eu",service.name="x"} 1\ng 1\n'.replace('service.name', 'deployment'));
    expect(gauge).toHaveLength(1);
    expect(gauge[0]!.ResourceAttributes).toEqual({
      'k8s.pod.name': 'cart-1',
      'k8s.namespace.name': 'shop',
      'service.namespace': 'shop',
      'service.name': 'cart',
      'service.instance.id': '10.0.0.7:8080',
      'server.address': '10.0.0.7',
      'server.port': '8080',
      'url.scheme': 'http',
      region: 'eu',
      deployment: 'x',
    });
    expect(gauge[0]!.ServiceName).toBe('cart');
    expect(gauge[0]!.ScopeName).toBe('crowsnest/agent/prometheus');
  });

  it('maps every type: counter to monotonic sum, gauge and untyped to gauge, info and stateset to non-monotonic sum', () => {
    const r = convert(
      `# TYPE c counter
c_total{a="1"} 5
# TYPE g gauge
g 2.5
u{x="y"} 3
# TYPE i info
i_info{version="1.2"} 1
# TYPE s stateset
s{s="on"} 1
s{s="off"} 0
# TYPE gh gaugehistogram
gh_bucket{le="+Inf"} 1
gh_gcount 1
# EOF
`,
      'openmetrics',
    );
    expect(r.sum.map((s) => [s.MetricName, s.IsMonotonic, s.AggregationTemporality, s.Value])).toEqual([
      ['c_total', true, 2, 5],
      ['i_info', false, 2, 1],
      ['s', false, 2, 1],
      ['s', false, 2, 0],
    ]);
    expect(r.gauge.map((g) => [g.MetricName, g.Value, g.Attributes])).toEqual([
      ['g', 2.5, {}],
      ['u', 3, { x: 'y' }],
    ]);
    expect(r.stats.dropped.gaugehistogram).toBe(2);
  });

  it('turns cumulative buckets into per-bucket counts with the +Inf bucket implied', () => {
    const { histogram } = convert(`# HELP lat Request latency.
# TYPE lat histogram
lat_bucket{path="/",le="0.1"} 2
lat_bucket{path="/",le="0.5"} 5
lat_bucket{path="/",le="1"} 5
lat_bucket{path="/",le="+Inf"} 7
lat_sum{path="/"} 3.5
lat_count{path="/"} 7
`);
    expect(histogram).toHaveLength(1);
    expect(histogram[0]).toMatchObject({
      MetricName: 'lat',
      MetricDescription: 'Request latency.',
      Attributes: { path: '/' },
      Count: '7',
      Sum: 3.5,
      ExplicitBounds: [0.1, 0.5, 1],
      BucketCounts: ['2', '3', '0', '2'],
      AggregationTemporality: 2,
    });
  });

  it('takes the +Inf count from _count when the +Inf bucket is missing, and drops a histogram without _count', () => {
    const r = convert('# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 3\n# TYPE k histogram\nk_bucket{le="+Inf"} 1\nk_sum 1\n');
    expect(r.histogram.map((h) => [h.MetricName, h.BucketCounts])).toEqual([['h', ['1', '2']]]);
    expect(r.stats.dropped.no_count).toBe(1);
  });

  it('groups interleaved histogram lines by their labels', () => {
    const { histogram } = convert('# TYPE h histogram\nh_bucket{a="1",le="1"} 1\nh_bucket{a="2",le="1"} 2\nh_bucket{a="1",le="+Inf"} 3\nh_count{a="2"} 4\nh_count{a="1"} 3\nh_bucket{a="2",le="+Inf"} 4\n');
    expect(histogram.map((h) => [h.Attributes, h.Count, h.BucketCounts])).toEqual([
      [{ a: '1' }, '3', ['1', '2']],
      [{ a: '2' }, '4', ['2', '2']],
    ]);
  });

  it('drops a histogram whose cumulative buckets go down', () => {
    const r = convert('# TYPE h histogram\nh_bucket{le="1"} 5\nh_bucket{le="2"} 3\nh_count 5\n');
    expect(r.histogram).toHaveLength(0);
    expect(r.stats.dropped.bad_buckets).toBe(1);
  });

  it('builds summaries from quantiles, _sum and _count', () => {
    const { summary } = convert(`# TYPE rpc summary
rpc{m="a",quantile="0.99"} 9
rpc{m="a",quantile="0.5"} 4
rpc_sum{m="a"} 100
rpc_count{m="a"} 20
# TYPE nosum summary
nosum_count 1
`);
    expect(summary.map((s) => [s.MetricName, s.Attributes, s.Count, s.Sum, s['ValueAtQuantiles.Quantile'], s['ValueAtQuantiles.Value']])).toEqual([
      ['rpc', { m: 'a' }, '20', 100, [0.5, 0.99], [4, 9]],
      ['nosum', {}, '1', 0, [], []],
    ]);
  });

  it('uses _created as the start time', () => {
    const { sum, histogram } = convert(
      `# TYPE c counter
c_total 17 1520879607.789
c_created 1520872607.123
# TYPE h histogram
h_bucket{le="+Inf"} 1
h_count 1
h_created 1520430001
# EOF
`,
      'openmetrics',
    );
    expect(sum[0]).toMatchObject({ StartTimeUnix: NS(1520872607123), TimeUnix: NS(1520879607789), Value: 17 });
    expect(histogram[0]).toMatchObject({ StartTimeUnix: NS(1520430001000), TimeUnix: NS(T0) });
  });

  it('starts a series when first seen, keeps that start, and restarts it at the previous scrape on a reset', () => {
    const tracker = new SeriesTracker();
    const body = (c: number, n: number) => `# TYPE c counter\nc_total ${c}\n# TYPE h histogram\nh_bucket{le="+Inf"} ${n}\nh_count ${n}\n# TYPE s summary\ns_count ${n}\n`;
    const first = convert(body(10, 5), 'prometheus', tracker, T0);
    expect(first.sum[0]!.StartTimeUnix).toBe(NS(T0));
    const second = convert(body(15, 6), 'prometheus', tracker, T0 + 15_000);
    expect(second.sum[0]!.StartTimeUnix).toBe(NS(T0));
    expect(second.histogram[0]!.StartTimeUnix).toBe(NS(T0));
    expect(second.summary[0]!.StartTimeUnix).toBe(NS(T0));
    const reset = convert(body(2, 1), 'prometheus', tracker, T0 + 30_000);
    expect(reset.sum[0]).toMatchObject({ StartTimeUnix: NS(T0 + 15_000), TimeUnix: NS(T0 + 30_000), Value: 2 });
    expect(reset.histogram[0]!.StartTimeUnix).toBe(NS(T0 + 15_000));
    expect(reset.summary[0]!.StartTimeUnix).toBe(NS(T0 + 15_000));
    const after = convert(body(3, 2), 'prometheus', tracker, T0 + 45_000);
    expect(after.sum[0]!.StartTimeUnix).toBe(NS(T0 + 15_000));
  });

  it('forgets series a scrape no longer has, so a returning series starts afresh and memory stays bounded', () => {
    const tracker = new SeriesTracker();
    convert('# TYPE c counter\nc_total{a="1"} 1\nc_total{a="2"} 1\n', 'prometheus', tracker, T0);
    expect(tracker.size).toBe(2);
    convert('# TYPE c counter\nc_total{a="1"} 2\n', 'prometheus', tracker, T0 + 1000);
    expect(tracker.size).toBe(1);
    const back = convert('# TYPE c counter\nc_total{a="1"} 3\nc_total{a="2"} 9\n', 'prometheus', tracker, T0 + 2000);
    expect(back.sum.map((s) => s.StartTimeUnix)).toEqual([NS(T0), NS(T0 + 2000)]);
  });

  it('drops new series past the tracker limit and counts them', () => {
    const r = convert('# TYPE c counter\nc_total{a="1"} 1\nc_total{a="2"} 1\nc_total{a="3"} 1\n', 'prometheus', new SeriesTracker(2));
    expect(r.sum).toHaveLength(2);
    expect(r.stats.dropped.series_limit).toBe(1);
  });

  it('carries exemplars with trace and span ids on counters and histogram buckets', () => {
    const { sum, histogram } = convert(
      `# TYPE c counter
c_total 3 # {trace_id="0af7651916cd43dd8448eb211c80319c",span_id="b7ad6b7169203331",user="u1"} 1 1700000000.5
# TYPE h histogram
h_bucket{le="0.5"} 1 # {trace_id="4bf92f3577b34da6a3ce929d0e0e4736"} 0.3
h_bucket{le="+Inf"} 1
h_count 1
# EOF
`,
      'openmetrics',
    );
    expect(sum[0]).toMatchObject({
      'Exemplars.TraceId': ['0af7651916cd43dd8448eb211c80319c'],
      'Exemplars.SpanId': ['b7ad6b7169203331'],
      'Exemplars.Value': [1],
      'Exemplars.TimeUnix': [NS(1700000000500)],
      'Exemplars.FilteredAttributes': [{ user: 'u1' }],
    });
    expect(histogram[0]).toMatchObject({ 'Exemplars.TraceId': ['4bf92f3577b34da6a3ce929d0e0e4736'], 'Exemplars.Value': [0.3] });
  });

  it('keeps NaN and infinities, HELP as description, OpenMetrics UNIT as a UCUM unit', () => {
    const { gauge } = convert('# TYPE a_seconds gauge\n# UNIT a_seconds seconds\n# HELP a_seconds Help.\na_seconds NaN\nb +Inf\nc -Inf\n# EOF\n', 'openmetrics');
    expect(gauge.map((g) => [g.MetricName, g.Value, g.MetricUnit, g.MetricDescription])).toEqual([
      ['a_seconds', NaN, 's', 'Help.'],
      ['b', Infinity, '', ''],
      ['c', -Infinity, '', ''],
    ]);
  });

  it('uses the sample timestamp when the target gave one, the scrape time otherwise', () => {
    const { gauge } = convert('a 1 1600000000000\nb 2\n');
    expect(gauge.map((g) => g.TimeUnix)).toEqual([NS(1600000000000), NS(T0)]);
  });

  it('picks the scope from otel_scope_name/version, drops otel_scope_info, renames exposed job and instance', () => {
    const { gauge } = convert(
      '# TYPE otel_scope_info gauge\notel_scope_info{otel_scope_name="lib",otel_scope_version="1"} 1\ng{otel_scope_name="lib",otel_scope_version="1",job="j",instance="i",k="v"} 1\n',
    );
    expect(gauge).toHaveLength(1);
    expect(gauge[0]).toMatchObject({ ScopeName: 'lib', ScopeVersion: '1', Attributes: { exported_job: 'j', exported_instance: 'i', k: 'v' } });
  });

  it('encodes long names and many labels (nested lengths over 127 bytes)', () => {
    const labels = Array.from({ length: 40 }, (_, i) => `l${i}="${'v'.repeat(i * 7)}"`).join(',');
    const name = `m_${'x'.repeat(300)}`;
    const { gauge } = convert(`${name}{${labels}} 1\n`);
    expect(gauge[0]!.MetricName).toBe(name);
    expect(Object.keys(gauge[0]!.Attributes)).toHaveLength(40);
    expect(gauge[0]!.Attributes.l39).toBe('v'.repeat(273));
  });
});

describe('scrapeHealth', () => {
  it('reports up, scrape_duration_seconds and scrape_samples_scraped as gauges', () => {
    const bytes = encodeMetricsRequest([{ resource: [['service.name', 'x']], scopes: [{ name: 's', version: '', metrics: scrapeHealth(T0, false, 0.25, 0) }] }]);
    const rows = decodeProtobuf('metrics', bytes).tables.otel_metrics_gauge as GaugeRow[];
    expect(rows.map((r) => [r.MetricName, r.Value])).toEqual([
      ['up', 0],
      ['scrape_duration_seconds', 0.25],
      ['scrape_samples_scraped', 0],
    ]);
  });
});

describe('splitByPoints', () => {
  it('splits a large scrape into requests of at most N points, keeping metrics whole', () => {
    const body = Array.from({ length: 10 }, (_, i) => `m${i}{a="1"} 1\nm${i}{a="2"} 2\n`).join('');
    const tracker = new SeriesTracker();
    tracker.begin();
    const { resourceMetrics } = toOtlp(parseExposition(body, 'prometheus'), target, T0, tracker);
    const parts = splitByPoints(resourceMetrics, 5);
    expect(parts.map((p) => p.points)).toEqual([4, 4, 4, 4, 4]);
    const total = parts.reduce((n, p) => n + decodeProtobuf('metrics', encodeMetricsRequest([p.resources])).accepted, 0);
    expect(total).toBe(20);
  });
});

describe('otelUnit', () => {
  it.each([
    ['seconds', 's'],
    ['bytes', 'By'],
    ['ratio', '1'],
    ['bytes_per_second', 'By/s'],
    ['widgets', 'widgets'],
    [undefined, ''],
  ])('%s → %s', (u, want) => expect(otelUnit(u)).toBe(want));
});
