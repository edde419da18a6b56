/**
 * Which metrics exist: the catalogue of metric names with their kinds and label keys, the kind of one metric,
 * and what may be asked of a metric of each kind.
 */
import { join, param, sql, unsafeRaw, type Sql } from '#storage/sql.ts';
import { type MetricType, METRIC_TYPES, metricTable } from '#storage/tables.ts';
import type { TimeRange } from '../../params/time.ts';
import { table, where, within } from '../common.ts';

export { METRIC_TYPES, type MetricType };

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

/** The types whose tables store an AggregationTemporality. */
export function hasTemporality(t: MetricType): boolean {
  return t === 'sum' || t === 'histogram' || t === 'exponential_histogram';
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
    const temporality = hasTemporality(t) ? 'any(AggregationTemporality)' : 'toInt32(0)';
    const monotonic = t === 'sum' ? 'any(IsMonotonic)' : 'false';
    return sql`SELECT MetricName AS name, ${unsafeRaw(`'${t}'`)} AS type, any(MetricUnit) AS unit, any(MetricDescription) AS description,
    ${unsafeRaw(temporality)} AS temporalityCode, ${unsafeRaw(monotonic)} AS monotonic,
    arrayConcat(['ServiceName'], arraySort(groupUniqArrayArray(${unsafeRaw(String(MAX_LABEL_KEYS))})(CAST(mapKeys(Attributes), 'Array(String)')))) AS labels
  FROM ${table(db, metricTable(t).name)}
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
    const temporality = hasTemporality(t) ? 'AggregationTemporality' : 'toInt32(0)';
    const monotonic = t === 'sum' ? 'IsMonotonic' : 'false';
    return sql`SELECT ${unsafeRaw(`'${t}'`)} AS type, ${unsafeRaw(temporality)} AS temporality, ${unsafeRaw(monotonic)} AS monotonic
  FROM ${table(db, metricTable(t).name)}
  WHERE MetricName = ${param('String', name)} AND ${within('TimeUnix', range)}
  LIMIT 1`;
  });
  return sql`${join(parts, '\nUNION ALL\n')}`;
}
