/**
 * The stored data points of one metric, every field as exported: for reading what an application sent rather
 * than a series computed from it.
 */
import { param, sql, type Sql } from '#storage/sql.ts';
import { type MetricType, metricTable } from '#storage/tables.ts';
import type { LabelFilter } from '../../params/filters.ts';
import type { TimeRange } from '../../params/time.ts';
import { table, where, within } from '../common.ts';
import { filterCondition } from './labels.ts';

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
 * The stored data points of one metric, newest first: bucket counts and bounds, exponential buckets, quantiles,
 * exemplars, flags, start and point times in nanoseconds. Returns `limit + 1` rows so the caller can tell a
 * truncated answer.
 */
export function metricPointsSql(db: string, m: MetricPointsQuery): Sql {
  const c: Sql[] = [sql`MetricName = ${param('String', m.name)}`, within('TimeUnix', m.range), ...m.filters.map(filterCondition)];
  return sql`SELECT toString(toUnixTimestamp64Nano(TimeUnix)) AS time, toString(toUnixTimestamp64Nano(StartTimeUnix)) AS startTime,
    toString(ServiceName) AS serviceName, CAST(Attributes, 'Map(String, String)') AS attributes,
    CAST(ResourceAttributes, 'Map(String, String)') AS resourceAttributes, ResourceSchemaUrl AS resourceSchemaUrl,
    toString(ScopeName) AS scopeName, ScopeVersion AS scopeVersion, CAST(ScopeAttributes, 'Map(String, String)') AS scopeAttributes,
    ScopeSchemaUrl AS scopeSchemaUrl, Flags AS flags, ${pointColumns(m.type)}
  FROM ${table(db, metricTable(m.type).name)}
  ${where(c)}
  ORDER BY TimeUnix DESC
  LIMIT ${param('UInt32', m.limit + 1)}`;
}
