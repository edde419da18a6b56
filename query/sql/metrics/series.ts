/**
 * Series of one metric over time: points bucketed by step and aggregated, one row per output series.
 *
 * Series maths (all in ClickHouse; each result row is one series with its `[tsMs, value]` points):
 * - Buckets are `step` wide and epoch-aligned; a range is widened to whole buckets, and a point's timestamp is
 *   its bucket's start (ms).
 * - A true series is one (ServiceName, ResourceAttributes, ScopeName, Attributes) combination (`SERIES_ID`), so
 *   two pods exporting the same attributes stay two counters. Output series are label sets (`groupBy`), made of
 *   one or more true series.
 * - Cumulative values (monotonic sums, histogram buckets, count and sum) become per-sample increases of each
 *   true series, reset-aware (`increase.ts`). The sample before the range is read (a look-back of
 *   max(step, 5 min)) so the first bucket has an increase too.
 * - Delta values are summed per bucket.
 */
import { param, sql, unsafeRaw, type Sql } from '#storage/sql.ts';
import { metricTable } from '#storage/tables.ts';
import type { LabelFilter } from '../../params/filters.ts';
import { type TimeRange, NS_PER_MS } from '../../params/time.ts';
import { table, ts, where } from '../common.ts';
import { histogramQuantileColumns } from '../quantile.ts';
import { type Agg, type MetricKind, DELTA, hasTemporality } from './catalogue.ts';
import { type SeriesScan, perSeriesIncreases, tracked } from './increase.ts';
import { SERIES_ID, filterCondition, labelsExpr } from './labels.ts';

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

/** Look-back for the sample before the range (see the module comment). */
export function lookbackMs(stepMs: number): number {
  return Math.max(stepMs, 5 * 60 * 1000);
}

/** The bucket-aligned span a query covers: [startMs, endMs). */
export function alignedRange(range: TimeRange, stepMs: number): { startMs: number; endMs: number } {
  const step = BigInt(stepMs);
  const start = (range.startNs / NS_PER_MS / step) * step;
  const end = (range.endNs / NS_PER_MS / step + 1n) * step;
  return { startMs: Number(start), endMs: Number(end) };
}

/** The rows a series statement reads (with the look-back before the range for cumulative values). */
function scan(db: string, m: MetricQuery, lookback: boolean): SeriesScan & { stepSeconds: Sql } {
  const { startMs, endMs } = alignedRange(m.range, m.stepMs);
  const from = BigInt(lookback ? startMs - lookbackMs(m.stepMs) : startMs) * NS_PER_MS;
  const c: Sql[] = [
    sql`MetricName = ${param('String', m.name)}`,
    sql`TimeUnix >= ${ts(from)}`,
    sql`TimeUnix < ${ts(BigInt(endMs) * NS_PER_MS)}`,
  ];
  if (hasTemporality(m.kind.type)) c.push(sql`AggregationTemporality = ${param('Int32', m.kind.temporality)}`);
  c.push(...m.filters.map(filterCondition));
  return {
    from: table(db, metricTable(m.kind.type).name),
    where: where(c),
    labels: labelsExpr(m.groupBy),
    bucket: sql`toFloat64(intDiv(toUnixTimestamp64Milli(TimeUnix), ${param('Int64', m.stepMs)}) * ${param('Int64', m.stepMs)})`,
    firstBucket: sql`${param('Float64', startMs)}`,
    stepSeconds: sql`${param('Float64', m.stepMs / 1000)}`,
  };
}

function gaugePoints(db: string, m: MetricQuery): Sql {
  const p = scan(db, m, false);
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
    SELECT ${p.labels} AS labels, ${p.bucket} AS t, ${SERIES_ID} AS series, ${unsafeRaw(inner)} AS sv, max(TimeUnix) AS st
    FROM ${p.from}
    ${p.where}
    GROUP BY labels, t, series
  )
  GROUP BY labels, t`;
}

function counterPoints(db: string, m: MetricQuery): Sql {
  if (m.kind.temporality === DELTA) {
    const p = scan(db, m, false);
    const v = m.agg === 'rate' ? sql`sum(Value) / ${p.stepSeconds}` : sql`sum(Value)`;
    return sql`SELECT ${p.labels} AS labels, ${p.bucket} AS t, ${v} AS v
    FROM ${p.from}
    ${p.where}
    GROUP BY labels, t`;
  }
  const value = tracked('Value');
  const increases = perSeriesIncreases(scan(db, m, true), {
    tracked: [value],
    // Up-down counters (not monotonic) go down legitimately: only a new start time is a reset for them.
    resets: m.kind.monotonic ? [sql`${value.cur} < ${value.prev}`] : [],
    increases: [{ as: 'inc', of: value }],
  });
  // rate: a series' increase over the time its increases span (≈ increase / step for regular samples).
  const perSeries = m.agg === 'rate' ? sql`sum(inc) / (sum(dt) / 1e9)` : sql`sum(inc)`;
  return sql`SELECT labels, t, sum(sv) AS v FROM (
    SELECT labels, t, series, ${perSeries} AS sv FROM (
      ${increases}
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
    const p = scan(db, m, false);
    return sql`SELECT labels, t, ${final} AS v FROM (
    SELECT ${p.labels} AS labels, ${p.bucket} AS t, toFloat64(sum(Count)) AS n, sum(Sum) AS s, ${p.stepSeconds} * 1e9 AS dtNs
    FROM ${p.from}
    ${p.where}
    GROUP BY labels, t
  )
  GROUP BY labels, t`;
  }
  const count = tracked('cnt', sql`toFloat64(Count)`);
  const total = tracked('Sum');
  const increases = perSeriesIncreases(scan(db, m, true), {
    tracked: [total, count],
    resets: [sql`${count.cur} < ${count.prev}`],
    increases: [
      { as: 'dCount', of: count },
      { as: 'dSum', of: total },
    ],
  });
  return sql`SELECT labels, t, ${final} AS v FROM (
    SELECT labels, t, series, sum(dCount) AS n, sum(dSum) AS s, sum(dt) AS dtNs FROM (
      ${increases}
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
    const p = scan(db, m, false);
    merged = sql`SELECT ${p.labels} AS labels, ${p.bucket} AS t,
      sumMap(arrayPushBack(ExplicitBounds, inf), arrayMap(x -> toFloat64(x), BucketCounts), arrayMap(x -> toUInt8(1), BucketCounts)) AS merged
    FROM ${p.from}
    ${p.where}
    GROUP BY labels, t`;
  } else {
    const count = tracked('cnt', sql`toFloat64(Count)`);
    const counts = tracked('counts', sql`arrayMap(x -> toFloat64(x), BucketCounts)`);
    const bounds = tracked('ExplicitBounds');
    // The previous counts cut or padded to this sample's length, so a changed bucket layout compares safely.
    const prevAligned = sql`arrayResize(${counts.prev}, length(${counts.cur}))`;
    const increases = perSeriesIncreases(scan(db, m, true), {
      tracked: [count, counts, bounds],
      resets: [
        sql`${count.cur} < ${count.prev}`,
        sql`${bounds.cur} != ${bounds.prev}`,
        sql`length(${counts.cur}) != length(${counts.prev})`,
        sql`arrayExists((a, b) -> a < b, ${counts.cur}, ${prevAligned})`,
      ],
      increases: [{ as: 'dCounts', of: counts, diff: sql`arrayMap((a, b) -> a - b, ${counts.cur}, ${prevAligned})` }],
      carry: [bounds],
    });
    merged = sql`SELECT labels, t, sumMap(arrayPushBack(ExplicitBounds, inf), dCounts, arrayMap(x -> toUInt8(1), dCounts)) AS merged FROM (
      ${increases}
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
    const p = scan(db, m, false);
    perPoint = sql`SELECT ${p.labels} AS labels, ${p.bucket} AS t, Scale, ${posMap} AS dPos, ${negMap} AS dNeg, toFloat64(ZeroCount) AS dZero,
        ${keysAndCounts}
      FROM ${p.from}
      ${p.where}`;
  } else {
    const count = tracked('cnt', sql`toFloat64(Count)`);
    const scale = tracked('Scale');
    const pos = tracked('pos', posMap);
    const neg = tracked('neg', negMap);
    const zero = tracked('zero', sql`toFloat64(ZeroCount)`);
    const increases = perSeriesIncreases(scan(db, m, true), {
      tracked: [count, scale, pos, neg, zero],
      resets: [sql`${count.cur} < ${count.prev}`, sql`${scale.cur} != ${scale.prev}`],
      increases: [
        { as: 'dPos', of: pos, diff: sql`mapSubtract(${pos.cur}, ${pos.prev})` },
        { as: 'dNeg', of: neg, diff: sql`mapSubtract(${neg.cur}, ${neg.prev})` },
        { as: 'dZero', of: zero },
      ],
      carry: [scale],
    });
    perPoint = sql`SELECT labels, t, Scale, dPos, dNeg, dZero,
        ${keysAndCounts}
      FROM (
        ${increases}
      )`;
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
  const p = scan(db, m, false);
  return sql`SELECT labels, t, avg(sv) AS v FROM (
    SELECT ${p.labels} AS labels, ${p.bucket} AS t, ${SERIES_ID} AS series,
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
