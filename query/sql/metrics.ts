/**
 * Metric queries: the catalogue of metric names, the kind of one metric, and its series over a range.
 *
 * Series maths (all in ClickHouse; each result row is one series with its `[tsMs, value]` points):
 * - Buckets are `step` wide and epoch-aligned; a range is widened to whole buckets, and a point's timestamp is
 *   its bucket's start (ms).
 * - A true series is one (ServiceName, ResourceAttributes, ScopeName, Attributes) combination, so two pods
 *   exporting the same attributes stay two counters. Output series are label sets (`groupBy`), made of one or
 *   more true series.
 * - Cumulative values (monotonic sums, histogram buckets, count and sum) become per-sample increases since the
 *   previous sample of the same true series (window `lagInFrame`); a sample whose start time changed, or that
 *   went down, starts a new counter (reset), and its whole value is the increase. The sample before the range
 *   is read (a look-back of max(step, 5 min)) so the first bucket has an increase too.
 * - Delta values are summed per bucket.
 */
import { join, param, sql, unsafeRaw, type Sql } from '#storage/sql.ts';
import type { LabelFilter } from '../params/filters.ts';
import { type TimeRange, NS_PER_MS } from '../params/time.ts';
import { type Table, table, ts, where, within } from './common.ts';
import { histogramQuantileColumns } from './quantile.ts';

export const METRIC_TYPES = ['gauge', 'sum', 'histogram', 'exponential_histogram', 'summary'] as const;
export type MetricType = (typeof METRIC_TYPES)[number];

/** OTLP AggregationTemporality values as stored. */
export const DELTA = 1;
export const CUMULATIVE = 2;

export interface MetricKind {
  type: MetricType;
  /** 0 unspecified (gauges, summaries), 1 delta, 2 cumulative. */
  temporality: number;
  monotonic: boolean;
}

export type Agg = 'avg' | 'min' | 'max' | 'sum' | 'last' | 'count' | 'rate' | 'increase' | 'quantile';

const GAUGE_AGGS: readonly Agg[] = ['avg', 'min', 'max', 'sum', 'last', 'count'];

/** What may be asked of a metric of this kind; the first is the default. */
export function allowedAggs(k: MetricKind): readonly Agg[] {
  switch (k.type) {
    case 'gauge':
      return GAUGE_AGGS;
    case 'sum':
      if (k.temporality === DELTA) return ['rate', 'increase'];
      return k.monotonic ? ['rate', 'increase', ...GAUGE_AGGS] : [...GAUGE_AGGS, 'rate', 'increase'];
    case 'histogram':
      return ['quantile', 'avg', 'count', 'sum', 'rate'];
    case 'exponential_histogram':
      return ['avg', 'count', 'sum', 'rate', 'quantile'];
    case 'summary':
      return ['quantile', 'avg', 'count', 'sum', 'rate'];
  }
}

function metricTable(t: MetricType): Table {
  return `otel_metrics_${t}`;
}

/** Look-back for the sample before the range (see the module comment). */
export function lookbackMs(stepMs: number): number {
  return Math.max(stepMs, 5 * 60 * 1000);
}

export interface MetricListQuery {
  range: TimeRange;
  /** Case-insensitive substring of the name. */
  search?: string | undefined;
  /** Only metrics this service reported. */
  service?: string | undefined;
  limit: number;
}

/** Most label keys listed per metric. */
const MAX_LABEL_KEYS = 200;

/**
 * Every metric with points in the range: name, type, unit, description, temporality/monotonicity (sums and
 * histograms) and label keys (`ServiceName` plus the keys of Attributes).
 */
export function metricListSql(db: string, m: MetricListQuery): Sql {
  const parts = METRIC_TYPES.map((t) => {
    const c: Sql[] = [within('TimeUnix', m.range)];
    if (m.search !== undefined && m.search !== '') c.push(sql`positionCaseInsensitive(MetricName, ${param('String', m.search)}) > 0`);
    if (m.service !== undefined) c.push(sql`ServiceName = ${param('String', m.service)}`);
    const temporality = t === 'sum' || t === 'histogram' || t === 'exponential_histogram' ? 'any(AggregationTemporality)' : 'toInt32(0)';
    const monotonic = t === 'sum' ? 'any(IsMonotonic)' : 'false';
    return sql`SELECT MetricName AS name, ${unsafeRaw(`'${t}'`)} AS type, any(MetricUnit) AS unit, any(MetricDescription) AS description,
    ${unsafeRaw(temporality)} AS temporalityCode, ${unsafeRaw(monotonic)} AS monotonic,
    arrayConcat(['ServiceName'], arraySort(groupUniqArrayArray(${unsafeRaw(String(MAX_LABEL_KEYS))})(CAST(mapKeys(Attributes), 'Array(String)')))) AS labels
  FROM ${table(db, metricTable(t))}
  ${where(c)}
  GROUP BY MetricName`;
  });
  return sql`SELECT name, type, unit, description,
  multiIf(temporalityCode = 1, 'delta', temporalityCode = 2, 'cumulative', 'unspecified') AS temporality,
  monotonic, labels
FROM (
  ${join(parts, '\n  UNION ALL\n  ')}
)
ORDER BY name, type
LIMIT ${param('UInt32', m.limit)}`;
}

/** The kinds of `name` with points in the range (normally one row; more when a name is reused across types). */
export function metricKindSql(db: string, name: string, range: TimeRange): Sql {
  const parts = METRIC_TYPES.map((t) => {
    const temporality = t === 'sum' || t === 'histogram' || t === 'exponential_histogram' ? 'AggregationTemporality' : 'toInt32(0)';
    const monotonic = t === 'sum' ? 'IsMonotonic' : 'false';
    return sql`SELECT ${unsafeRaw(`'${t}'`)} AS type, ${unsafeRaw(temporality)} AS temporality, ${unsafeRaw(monotonic)} AS monotonic
  FROM ${table(db, metricTable(t))}
  WHERE MetricName = ${param('String', name)} AND ${within('TimeUnix', range)}
  LIMIT 1`;
  });
  return sql`${join(parts, '\nUNION ALL\n')}`;
}

export interface MetricPointsQuery {
  name: string;
  type: MetricType;
  range: TimeRange;
  filters: readonly LabelFilter[];
  limit: number;
}

/** Exemplars as objects; the summary table has none. */
const EXEMPLARS = sql`arrayMap((t, v, tr, sp, fa) -> tuple(toString(toUnixTimestamp64Nano(t)), v, tr, sp, CAST(fa, 'Map(String, String)'))::Tuple(time String, value Float64, traceId String, spanId String, filteredAttributes Map(String, String)),
    \`Exemplars.TimeUnix\`, \`Exemplars.Value\`, \`Exemplars.TraceId\`, \`Exemplars.SpanId\`, \`Exemplars.FilteredAttributes\`) AS exemplars`;

/** Each type's own columns, named as the API returns them; 64-bit counts as decimal strings (exact). */
function pointColumns(t: MetricType): Sql {
  const temporality = sql`multiIf(AggregationTemporality = 1, 'delta', AggregationTemporality = 2, 'cumulative', 'unspecified') AS temporality`;
  switch (t) {
    case 'gauge':
      return sql`Value AS value, ${EXEMPLARS}`;
    case 'sum':
      return sql`Value AS value, ${temporality}, IsMonotonic AS monotonic, ${EXEMPLARS}`;
    case 'histogram':
      return sql`toString(Count) AS count, Sum AS sum, Min AS min, Max AS max, arrayMap(x -> toString(x), BucketCounts) AS bucketCounts,
    ExplicitBounds AS explicitBounds, ${temporality}, ${EXEMPLARS}`;
    case 'exponential_histogram':
      return sql`toString(Count) AS count, Sum AS sum, Min AS min, Max AS max, Scale AS scale, toString(ZeroCount) AS zeroCount,
    tuple(PositiveOffset, arrayMap(x -> toString(x), PositiveBucketCounts))::Tuple(offset Int32, bucketCounts Array(String)) AS positive,
    tuple(NegativeOffset, arrayMap(x -> toString(x), NegativeBucketCounts))::Tuple(offset Int32, bucketCounts Array(String)) AS negative,
    ${temporality}, ${EXEMPLARS}`;
    case 'summary':
      return sql`toString(Count) AS count, Sum AS sum,
    arrayMap((q, v) -> tuple(q, v)::Tuple(quantile Float64, value Float64), \`ValueAtQuantiles.Quantile\`, \`ValueAtQuantiles.Value\`) AS quantiles`;
  }
}

/**
 * The stored data points of one metric, newest first: every field as exported (bucket counts and bounds,
 * exponential buckets, quantiles, exemplars, flags, start and point times in nanoseconds), for reading what an
 * application sent rather than a series computed from it.
 */
export function metricPointsSql(db: string, m: MetricPointsQuery): Sql {
  const c: Sql[] = [sql`MetricName = ${param('String', m.name)}`, within('TimeUnix', m.range), ...m.filters.map(filterCondition)];
  return sql`SELECT toString(toUnixTimestamp64Nano(TimeUnix)) AS time, toString(toUnixTimestamp64Nano(StartTimeUnix)) AS startTime,
    toString(ServiceName) AS serviceName, CAST(Attributes, 'Map(String, String)') AS attributes,
    CAST(ResourceAttributes, 'Map(String, String)') AS resourceAttributes, ResourceSchemaUrl AS resourceSchemaUrl,
    toString(ScopeName) AS scopeName, ScopeVersion AS scopeVersion, CAST(ScopeAttributes, 'Map(String, String)') AS scopeAttributes,
    ScopeSchemaUrl AS scopeSchemaUrl, Flags AS flags, ${pointColumns(m.type)}
  FROM ${table(db, metricTable(m.type))}
  ${where(c)}
  ORDER BY TimeUnix DESC
  LIMIT ${param('UInt32', m.limit + 1)}`;
}

export interface MetricQuery {
  name: string;
  kind: MetricKind;
  range: TimeRange;
  stepMs: number;
  agg: Agg;
  /** Quantile for agg=quantile, 0 ≤ q ≤ 1. */
  q?: number | undefined;
  filters: readonly LabelFilter[];
  /** Label keys of the output series; undefined keeps every label set apart, [] merges everything. */
  groupBy?: readonly string[] | undefined;
  /** Most series returned; the statement returns one more so the caller can tell a truncated answer. */
  limit: number;
}

/** The bucket-aligned span a query covers: [startMs, endMs). */
export function alignedRange(range: TimeRange, stepMs: number): { startMs: number; endMs: number } {
  const step = BigInt(stepMs);
  const start = (range.startNs / NS_PER_MS / step) * step;
  const end = (range.endNs / NS_PER_MS / step + 1n) * step;
  return { startMs: Number(start), endMs: Number(end) };
}

function labelValue(key: string): Sql {
  return key === 'ServiceName' ? sql`toString(ServiceName)` : sql`Attributes[${param('String', key)}]`;
}

function labelsExpr(groupBy: readonly string[] | undefined): Sql {
  if (groupBy === undefined) return sql`mapUpdate(CAST(Attributes, 'Map(String, String)'), map('ServiceName', toString(ServiceName)))`;
  if (groupBy.length === 0) return sql`CAST(map(), 'Map(String, String)')`;
  const pairs = groupBy.map((k) => sql`${param('String', k)}, ${labelValue(k)}`);
  // A series without the label is grouped under "absent", as PromQL does, not under an empty-string value.
  return sql`mapFilter((lk, lv) -> lv != '', map(${join(pairs, ', ')}))`;
}

function filterCondition(f: LabelFilter): Sql {
  // ServiceName leads the sort key: compare the column itself so the primary index applies.
  const v = f.key === 'ServiceName' ? sql`ServiceName` : labelValue(f.key);
  switch (f.op) {
    case '=':
      return sql`${v} = ${param('String', f.value)}`;
    case '!=':
      return sql`${v} != ${param('String', f.value)}`;
    // Anchored like PromQL: the whole value must match. RE2 syntax.
    case '=~':
      return sql`match(${v}, ${param('String', `^(?:${f.value})$`)})`;
    case '!~':
      return sql`NOT match(${v}, ${param('String', `^(?:${f.value})$`)})`;
  }
}

const SERIES = unsafeRaw('cityHash64(ServiceName, ResourceAttributes, ScopeName, Attributes)');

/** Builds the parts every series statement shares. */
function parts(db: string, m: MetricQuery, lookback: boolean) {
  const { startMs, endMs } = alignedRange(m.range, m.stepMs);
  const from = BigInt(lookback ? startMs - lookbackMs(m.stepMs) : startMs) * NS_PER_MS;
  const c: Sql[] = [
    sql`MetricName = ${param('String', m.name)}`,
    sql`TimeUnix >= ${ts(from)}`,
    sql`TimeUnix < ${ts(BigInt(endMs) * NS_PER_MS)}`,
  ];
  if (m.kind.type === 'sum' || m.kind.type === 'histogram' || m.kind.type === 'exponential_histogram') {
    c.push(sql`AggregationTemporality = ${param('Int32', m.kind.temporality)}`);
  }
  c.push(...m.filters.map(filterCondition));
  return {
    from: table(db, metricTable(m.kind.type)),
    where: where(c),
    labels: labelsExpr(m.groupBy),
    bucket: sql`toFloat64(intDiv(toUnixTimestamp64Milli(TimeUnix), ${param('Int64', m.stepMs)}) * ${param('Int64', m.stepMs)})`,
    firstBucket: param('Float64', startMs),
    stepSeconds: param('Float64', m.stepMs / 1000),
  };
}

/** Per-series window over samples in time order (the sample before each one). */
const WINDOW = unsafeRaw('WINDOW w AS (PARTITION BY series ORDER BY TimeUnix ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)');

function gaugePoints(db: string, m: MetricQuery): Sql {
  const p = parts(db, m, false);
  const [inner, outer] = (
    {
      avg: ['avg(Value)', 'avg(sv)'],
      min: ['min(Value)', 'min(sv)'],
      max: ['max(Value)', 'max(sv)'],
      // A label set's sum is the sum of its series' latest values, as PromQL `sum` at the bucket's end.
      sum: ['argMax(Value, TimeUnix)', 'sum(sv)'],
      last: ['argMax(Value, TimeUnix)', 'argMax(sv, st)'],
      count: ['toFloat64(count())', 'sum(sv)'],
    } as Record<string, [string, string]>
  )[m.agg] ?? ['avg(Value)', 'avg(sv)'];
  return sql`SELECT labels, t, ${unsafeRaw(outer)} AS v FROM (
    SELECT ${p.labels} AS labels, ${p.bucket} AS t, ${SERIES} AS series, ${unsafeRaw(inner)} AS sv, max(TimeUnix) AS st
    FROM ${p.from}
    ${p.where}
    GROUP BY labels, t, series
  )
  GROUP BY labels, t`;
}

function counterPoints(db: string, m: MetricQuery): Sql {
  if (m.kind.temporality === DELTA) {
    const p = parts(db, m, false);
    const v = m.agg === 'rate' ? sql`sum(Value) / ${p.stepSeconds}` : sql`sum(Value)`;
    return sql`SELECT ${p.labels} AS labels, ${p.bucket} AS t, ${v} AS v
    FROM ${p.from}
    ${p.where}
    GROUP BY labels, t`;
  }
  const p = parts(db, m, true);
  // Up-down counters (not monotonic) go down legitimately: only a new start time is a reset for them.
  const reset = m.kind.monotonic ? sql`StartTimeUnix != prevStart OR Value < assumeNotNull(prev)` : sql`StartTimeUnix != prevStart`;
  // rate: a series' increase over the time its increases span (≈ increase / step for regular samples).
  const perSeries = m.agg === 'rate' ? sql`sum(inc) / (sum(dt) / 1e9)` : sql`sum(inc)`;
  return sql`SELECT labels, t, sum(sv) AS v FROM (
    SELECT labels, t, series, ${perSeries} AS sv FROM (
      SELECT labels, t, series,
        if(${reset}, Value, Value - assumeNotNull(prev)) AS inc,
        toFloat64(toUnixTimestamp64Nano(TimeUnix) - toUnixTimestamp64Nano(prevTime)) AS dt
      FROM (
        SELECT ${p.labels} AS labels, ${p.bucket} AS t, ${SERIES} AS series, TimeUnix, StartTimeUnix, Value,
          lagInFrame(toNullable(Value)) OVER w AS prev,
          lagInFrame(TimeUnix) OVER w AS prevTime,
          lagInFrame(StartTimeUnix) OVER w AS prevStart
        FROM ${p.from}
        ${p.where}
        ${WINDOW}
      )
      WHERE prev IS NOT NULL AND t >= ${p.firstBucket}
    )
    GROUP BY labels, t, series
  )
  GROUP BY labels, t`;
}

/** count / sum / avg / rate of histograms, exponential histograms and summaries, from their Count and Sum. */
function countSumPoints(db: string, m: MetricQuery): Sql {
  const finals: Record<string, string> = { count: 'sum(n)', sum: 'sum(s)', avg: 'sum(s) / sum(n)', rate: 'sum(n / (dtNs / 1e9))' };
  const final = unsafeRaw(finals[m.agg] ?? 'sum(s) / sum(n)');
  if (m.kind.temporality === DELTA) {
    const p = parts(db, m, false);
    return sql`SELECT labels, t, ${final} AS v FROM (
    SELECT ${p.labels} AS labels, ${p.bucket} AS t, toFloat64(sum(Count)) AS n, sum(Sum) AS s, ${p.stepSeconds} * 1e9 AS dtNs
    FROM ${p.from}
    ${p.where}
    GROUP BY labels, t
  )
  GROUP BY labels, t`;
  }
  const p = parts(db, m, true);
  return sql`SELECT labels, t, ${final} AS v FROM (
    SELECT labels, t, series, sum(dCount) AS n, sum(dSum) AS s, sum(dt) AS dtNs FROM (
      SELECT labels, t, series,
        StartTimeUnix != prevStart OR cnt < assumeNotNull(prevCount) AS isReset,
        if(isReset, cnt, cnt - assumeNotNull(prevCount)) AS dCount,
        if(isReset, Sum, Sum - prevSum) AS dSum,
        toFloat64(toUnixTimestamp64Nano(TimeUnix) - toUnixTimestamp64Nano(prevTime)) AS dt
      FROM (
        SELECT ${p.labels} AS labels, ${p.bucket} AS t, ${SERIES} AS series, TimeUnix, StartTimeUnix, Sum, toFloat64(Count) AS cnt,
          lagInFrame(toNullable(toFloat64(Count))) OVER w AS prevCount,
          lagInFrame(Sum) OVER w AS prevSum,
          lagInFrame(TimeUnix) OVER w AS prevTime,
          lagInFrame(StartTimeUnix) OVER w AS prevStart
        FROM ${p.from}
        ${p.where}
        ${WINDOW}
      )
      WHERE prevCount IS NOT NULL AND t >= ${p.firstBucket}
    )
    GROUP BY labels, t, series
  )
  GROUP BY labels, t`;
}

/**
 * Histogram quantile per bucket and label set: bucket counts gained during the step (cumulative: per true
 * series, reset-aware; delta: as stored) are merged across series by upper bound, then interpolated
 * (see quantile.ts). sumMap drops keys whose sums are all zero, which would merge an empty bucket into its
 * neighbour and move the interpolation bounds; a third, all-ones value array keeps every key.
 */
function histogramQuantilePoints(db: string, m: MetricQuery): Sql {
  const q = m.q ?? 0.5;
  let merged: Sql;
  if (m.kind.temporality === DELTA) {
    const p = parts(db, m, false);
    merged = sql`SELECT ${p.labels} AS labels, ${p.bucket} AS t,
      sumMap(arrayPushBack(ExplicitBounds, inf), arrayMap(x -> toFloat64(x), BucketCounts), arrayMap(x -> toUInt8(1), BucketCounts)) AS merged
    FROM ${p.from}
    ${p.where}
    GROUP BY labels, t`;
  } else {
    const p = parts(db, m, true);
    merged = sql`SELECT labels, t, sumMap(bounds, dCounts, arrayMap(x -> toUInt8(1), dCounts)) AS merged FROM (
      SELECT labels, t,
        arrayPushBack(ExplicitBounds, inf) AS bounds,
        arrayResize(prevCounts, length(counts)) AS prevAligned,
        StartTimeUnix != prevStart OR cnt < assumeNotNull(prevCount) OR ExplicitBounds != prevBounds
          OR length(counts) != length(prevCounts) OR arrayExists((a, b) -> a < b, counts, prevAligned) AS isReset,
        if(isReset, counts, arrayMap((a, b) -> a - b, counts, prevAligned)) AS dCounts
      FROM (
        SELECT ${p.labels} AS labels, ${p.bucket} AS t, ${SERIES} AS series, TimeUnix, StartTimeUnix, ExplicitBounds,
          arrayMap(x -> toFloat64(x), BucketCounts) AS counts, toFloat64(Count) AS cnt,
          lagInFrame(arrayMap(x -> toFloat64(x), BucketCounts)) OVER w AS prevCounts,
          lagInFrame(toNullable(toFloat64(Count))) OVER w AS prevCount,
          lagInFrame(ExplicitBounds) OVER w AS prevBounds,
          lagInFrame(StartTimeUnix) OVER w AS prevStart
        FROM ${p.from}
        ${p.where}
        ${WINDOW}
      )
      WHERE prevCount IS NOT NULL AND t >= ${p.firstBucket}
    )
    GROUP BY labels, t`;
  }
  return sql`SELECT labels, t, ${histogramQuantileColumns(q, 'merged.1', 'merged.2', 'v')}
  FROM (
    ${merged}
  )`;
}

/**
 * Exponential histogram quantile. Buckets become explicit ones keyed by their bounds (base = 2^(2^-scale);
 * positive bucket i covers (base^i, base^(i+1)], negative bucket i covers [-base^(i+1), -base^i), the zero
 * bucket is a point mass at 0), then merge and interpolate exactly as explicit histograms do. Each bucket also
 * contributes its lower bound with a zero count, so a bucket whose neighbour is absent still interpolates from
 * its own lower bound, and a +Inf key with a zero count closes the list (histogram_quantile expects one).
 * Cumulative points become per-series increases first, bucket index by bucket index (`mapSubtract`); a change
 * of scale, start time or a falling count is a reset.
 */
function expHistogramQuantilePoints(db: string, m: MetricQuery): Sql {
  const q = m.q ?? 0.5;
  const posMap = unsafeRaw(
    'mapFromArrays(arrayMap(j -> toInt32(PositiveOffset + j), range(length(PositiveBucketCounts))), arrayMap(x -> toFloat64(x), PositiveBucketCounts))',
  );
  const negMap = unsafeRaw(
    'mapFromArrays(arrayMap(j -> toInt32(NegativeOffset + j), range(length(NegativeBucketCounts))), arrayMap(x -> toFloat64(x), NegativeBucketCounts))',
  );
  // From per-point (or per-increase) maps dPos, dNeg, the zero count dZero and Scale: keys and counts.
  const keysAndCounts = unsafeRaw(`exp2(exp2(-Scale)) AS base,
        arrayConcat(
          arrayMap(i -> -pow(base, i + 1), mapKeys(dNeg)), arrayMap(i -> -pow(base, i), mapKeys(dNeg)),
          [-1e-300, 0.],
          arrayMap(i -> pow(base, i), mapKeys(dPos)), arrayMap(i -> pow(base, i + 1), mapKeys(dPos)),
          [inf]) AS keys,
        arrayConcat(
          arrayMap(x -> 0., mapKeys(dNeg)), arrayMap(x -> greatest(x, 0.), mapValues(dNeg)),
          [0., greatest(dZero, 0.)],
          arrayMap(x -> 0., mapKeys(dPos)), arrayMap(x -> greatest(x, 0.), mapValues(dPos)),
          [0.]) AS counts`);
  let perPoint: Sql;
  if (m.kind.temporality === DELTA) {
    const p = parts(db, m, false);
    perPoint = sql`SELECT ${p.labels} AS labels, ${p.bucket} AS t, Scale, ${posMap} AS dPos, ${negMap} AS dNeg, toFloat64(ZeroCount) AS dZero,
        ${keysAndCounts}
      FROM ${p.from}
      ${p.where}`;
  } else {
    const p = parts(db, m, true);
    perPoint = sql`SELECT labels, t, Scale,
        StartTimeUnix != prevStart OR cnt < assumeNotNull(prevCount) OR Scale != prevScale AS isReset,
        if(isReset, pos, mapSubtract(pos, prevPos)) AS dPos,
        if(isReset, neg, mapSubtract(neg, prevNeg)) AS dNeg,
        if(isReset, zero, zero - prevZero) AS dZero,
        ${keysAndCounts}
      FROM (
        SELECT ${p.labels} AS labels, ${p.bucket} AS t, ${SERIES} AS series, TimeUnix, StartTimeUnix, Scale,
          toFloat64(Count) AS cnt, ${posMap} AS pos, ${negMap} AS neg, toFloat64(ZeroCount) AS zero,
          lagInFrame(${posMap}) OVER w AS prevPos,
          lagInFrame(${negMap}) OVER w AS prevNeg,
          lagInFrame(toFloat64(ZeroCount)) OVER w AS prevZero,
          lagInFrame(toNullable(toFloat64(Count))) OVER w AS prevCount,
          lagInFrame(Scale) OVER w AS prevScale,
          lagInFrame(StartTimeUnix) OVER w AS prevStart
        FROM ${p.from}
        ${p.where}
        ${WINDOW}
      )
      WHERE prevCount IS NOT NULL AND t >= ${p.firstBucket}`;
  }
  return sql`SELECT labels, t, ${histogramQuantileColumns(q, 'merged.1', 'merged.2', 'v')}
  FROM (
    SELECT labels, t, sumMap(keys, counts, arrayMap(x -> toUInt8(1), counts)) AS merged FROM (
      ${perPoint}
    )
    GROUP BY labels, t
  )`;
}

/**
 * A summary's stored quantile: each true series' latest value in the bucket, averaged across the series of a
 * label set (summaries cannot be merged exactly; the average is the usual approximation). A quantile the
 * summary does not store gives no points.
 */
function summaryQuantilePoints(db: string, m: MetricQuery): Sql {
  const p = parts(db, m, false);
  return sql`SELECT labels, t, avg(sv) AS v FROM (
    SELECT ${p.labels} AS labels, ${p.bucket} AS t, ${SERIES} AS series,
      argMax(if(idx = 0, nan, \`ValueAtQuantiles.Value\`[idx]), TimeUnix) AS sv
    FROM (
      SELECT *, indexOf(\`ValueAtQuantiles.Quantile\`, ${param('Float64', m.q ?? 0.5)}) AS idx
      FROM ${p.from}
      ${p.where}
    )
    GROUP BY labels, t, series
  )
  GROUP BY labels, t`;
}

function points(db: string, m: MetricQuery): Sql {
  switch (m.kind.type) {
    case 'gauge':
      return gaugePoints(db, m);
    case 'sum':
      return m.agg === 'rate' || m.agg === 'increase' ? counterPoints(db, m) : gaugePoints(db, m);
    case 'histogram':
      return m.agg === 'quantile' ? histogramQuantilePoints(db, m) : countSumPoints(db, m);
    case 'exponential_histogram':
      return m.agg === 'quantile' ? expHistogramQuantilePoints(db, m) : countSumPoints(db, m);
    case 'summary':
      return m.agg === 'quantile' ? summaryQuantilePoints(db, m) : countSumPoints(db, m);
  }
}

/** One row per output series: `labels` (object) and `points` (`[[tsMs, value], …]` in time order). */
export function metricSeriesSql(db: string, m: MetricQuery): Sql {
  return sql`SELECT labels, arraySort(x -> x.1, groupArray((t, v))) AS points
FROM (
  ${points(db, m)}
)
WHERE isFinite(v)
GROUP BY labels
ORDER BY labels
LIMIT ${param('UInt32', m.limit + 1)}`;
}
