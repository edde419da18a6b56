/**
 * RED figures per service from spans: requests/s, error rate and latency quantiles.
 */
import { param, sql, type Sql } from '#storage/sql.ts';
import { type TimeRange, NS_PER_MS } from '../params/time.ts';
import { table, where, within } from './common.ts';

export interface ServicesQuery {
  range: TimeRange;
  service?: string | undefined;
  limit: number;
}

/**
 * A service's requests are its entry spans: SpanKind Server or Consumer. A service with neither (a batch job,
 * a client-only tool) is measured on its root spans (no parent) instead; `source` says which was used.
 *
 * One pass over the range reads only entry and root spans, aggregating both measures with -If combinators;
 * the outer query picks one per service. Quantiles are ClickHouse's `quantiles` (reservoir of 8192 values
 * per service, linear interpolation): exact below 8192 requests, an estimate above.
 */
export function servicesSql(db: string, s: ServicesQuery): Sql {
  const seconds = Number((s.range.endNs - s.range.startNs) / NS_PER_MS) / 1000;
  const c: Sql[] = [within('Timestamp', s.range), sql`(SpanKind IN ('Server', 'Consumer') OR ParentSpanId = '')`];
  if (s.service !== undefined) c.push(sql`ServiceName = ${param('String', s.service)}`);
  return sql`SELECT
  serviceName,
  if(entries > 0, 'entry', 'root') AS source,
  if(entries > 0, entries, roots) AS requests,
  requests / ${param('Float64', seconds)} AS requestRate,
  if(entries > 0, entryErrors, rootErrors) AS errors,
  if(requests > 0, errors / requests, 0) AS errorRate,
  if(entries > 0, entryQ, rootQ) AS q,
  CAST((q[1], q[2], q[3]), 'Tuple(p50 Float64, p95 Float64, p99 Float64)') AS latencyNano
FROM (
  SELECT
    ServiceName AS serviceName,
    toFloat64(countIf(SpanKind IN ('Server', 'Consumer'))) AS entries,
    toFloat64(countIf(ParentSpanId = '')) AS roots,
    toFloat64(countIf(SpanKind IN ('Server', 'Consumer') AND StatusCode = 'Error')) AS entryErrors,
    toFloat64(countIf(ParentSpanId = '' AND StatusCode = 'Error')) AS rootErrors,
    quantilesIf(0.5, 0.95, 0.99)(Duration, SpanKind IN ('Server', 'Consumer')) AS entryQ,
    quantilesIf(0.5, 0.95, 0.99)(Duration, ParentSpanId = '') AS rootQ
  FROM ${table(db, 'otel_traces')}
  ${where(c)}
  GROUP BY ServiceName
)
ORDER BY serviceName
LIMIT ${param('UInt32', s.limit)}`;
}
