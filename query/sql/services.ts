/**
 * RED figures per service from spans: requests/s, error rate and latency quantiles; the same per time bucket
 * (sparklines, RED charts) and per operation of one service.
 */
import { param, sql, unsafeRaw, type Sql } from '#storage/sql.ts';
import { type TimeRange, NS_PER_MS } from '../params/time.ts';
import { table, where, within } from './common.ts';

/** Which spans count, shared by the three queries: a time range and optional service and resource filters. */
export interface ServiceFilter {
  range: TimeRange;
  service?: string | undefined;
  /** Resource attribute `k8s.namespace.name`. */
  namespace?: string | undefined;
  /** Resource attribute `deployment.environment.name`, or `deployment.environment` (its name before semconv 1.27). */
  environment?: string | undefined;
}

export interface ServicesQuery extends ServiceFilter {
  limit: number;
}

export interface ServiceSeriesQuery extends ServiceFilter {
  stepMs: number;
  limit: number;
}

export interface OperationsQuery extends ServiceFilter {
  service: string;
  limit: number;
}

const NAMESPACE = unsafeRaw(`ResourceAttributes['k8s.namespace.name']`);
/** The environment under its current semantic-conventions name, else its older one. */
const ENVIRONMENT = unsafeRaw(
  `if(ResourceAttributes['deployment.environment.name'] != '', ResourceAttributes['deployment.environment.name'], ResourceAttributes['deployment.environment'])`,
);
const ENTRY = unsafeRaw(`SpanKind IN ('Server', 'Consumer')`);
const ROOT = unsafeRaw(`ParentSpanId = ''`);

/** Entry or root spans of the filter's range, service and resource. */
function conditions(f: ServiceFilter): Sql[] {
  const c: Sql[] = [within('Timestamp', f.range), sql`(${ENTRY} OR ${ROOT})`];
  if (f.service !== undefined) c.push(sql`ServiceName = ${param('String', f.service)}`);
  if (f.namespace !== undefined) c.push(sql`${NAMESPACE} = ${param('String', f.namespace)}`);
  if (f.environment !== undefined) c.push(sql`${ENVIRONMENT} = ${param('String', f.environment)}`);
  return c;
}

/** Entry and root aggregates side by side: each query then picks one per service (see servicesSql). */
const BOTH_MEASURES = sql`toFloat64(countIf(${ENTRY})) AS entries,
    toFloat64(countIf(${ROOT})) AS roots,
    toFloat64(countIf(${ENTRY} AND StatusCode = 'Error')) AS entryErrors,
    toFloat64(countIf(${ROOT} AND StatusCode = 'Error')) AS rootErrors,
    quantilesIf(0.5, 0.95, 0.99)(Duration, ${ENTRY}) AS entryQ,
    quantilesIf(0.5, 0.95, 0.99)(Duration, ${ROOT}) AS rootQ`;

function seconds(range: TimeRange): number {
  return Number((range.endNs - range.startNs) / NS_PER_MS) / 1000;
}

/**
 * A service's requests are its entry spans: SpanKind Server or Consumer. A service with neither (a batch job,
 * a client-only tool) is measured on its root spans (no parent) instead; `source` says which was used.
 *
 * One pass over the range reads only entry and root spans, aggregating both measures with -If combinators;
 * the outer query picks one per service. Quantiles are ClickHouse's `quantiles` (reservoir of 8192 values
 * per service, linear interpolation): exact below 8192 requests, an estimate above.
 *
 * `namespaces` and `environments` list the resource values the service's requests carried (at most 20 each),
 * which the UI offers as filters.
 */
export function servicesSql(db: string, s: ServicesQuery): Sql {
  return sql`SELECT
  serviceName,
  if(entries > 0, 'entry', 'root') AS source,
  if(entries > 0, entries, roots) AS requests,
  requests / ${param('Float64', seconds(s.range))} AS requestRate,
  if(entries > 0, entryErrors, rootErrors) AS errors,
  if(requests > 0, errors / requests, 0) AS errorRate,
  if(entries > 0, entryQ, rootQ) AS q,
  CAST((q[1], q[2], q[3]), 'Tuple(p50 Float64, p95 Float64, p99 Float64)') AS latencyNano,
  arraySort(arrayFilter(x -> x != '', namespaces)) AS namespaces,
  arraySort(arrayFilter(x -> x != '', environments)) AS environments
FROM (
  SELECT
    ServiceName AS serviceName,
    ${BOTH_MEASURES},
    groupUniqArray(21)(${NAMESPACE}) AS namespaces,
    groupUniqArray(21)(${ENVIRONMENT}) AS environments
  FROM ${table(db, 'otel_traces')}
  ${where(conditions(s))}
  GROUP BY ServiceName
)
ORDER BY serviceName
LIMIT ${param('UInt32', s.limit)}`;
}

/** One row per service and time bucket (`t`: bucket start, epoch ms), by the same measures as servicesSql. */
export interface ServiceSeriesRow {
  serviceName: string;
  t: number;
  requests: number;
  errors: number;
  /** p50, p95, p99 in nanoseconds; NaN where the bucket has no request of the chosen measure. */
  q: [number, number, number];
}

/**
 * RED per service and bucket of `stepMs`, buckets aligned to multiples of the step since the epoch (as the log
 * histogram's). Whether a service is measured on entry or root spans is decided over the whole range (a window
 * over its buckets), so every bucket uses the measure of the services table and the figures add up to it.
 * Only the first `limit` services by name are returned, as servicesSql does.
 */
export function serviceSeriesSql(db: string, s: ServiceSeriesQuery): Sql {
  const step = param('Int64', s.stepMs);
  return sql`SELECT
  serviceName,
  t,
  if(serviceEntries > 0, entries, roots) AS requests,
  if(serviceEntries > 0, entryErrors, rootErrors) AS errors,
  if(serviceEntries > 0, entryQ, rootQ) AS q
FROM (
  SELECT
    ServiceName AS serviceName,
    toFloat64(intDiv(toUnixTimestamp64Milli(Timestamp), ${step}) * ${step}) AS t,
    ${BOTH_MEASURES},
    sum(entries) OVER (PARTITION BY serviceName) AS serviceEntries
  FROM ${table(db, 'otel_traces')}
  ${where(conditions(s))}
  GROUP BY ServiceName, t
)
WHERE serviceName IN (
  SELECT DISTINCT ServiceName FROM ${table(db, 'otel_traces')} ${where(conditions(s))} ORDER BY ServiceName LIMIT ${param('UInt32', s.limit)}
)
ORDER BY serviceName, t`;
}

/**
 * Per operation (SpanName) of one service: the same measures over the service's requests (entry spans, or root
 * spans for a service without any, decided over the whole service as servicesSql does). Busiest first.
 */
export function operationsSql(db: string, s: OperationsQuery): Sql {
  return sql`SELECT
  operation,
  if(serviceEntries > 0, entries, roots) AS requests,
  requests / ${param('Float64', seconds(s.range))} AS requestRate,
  if(serviceEntries > 0, entryErrors, rootErrors) AS errors,
  if(requests > 0, errors / requests, 0) AS errorRate,
  if(serviceEntries > 0, entryQ, rootQ) AS q,
  CAST((q[1], q[2], q[3]), 'Tuple(p50 Float64, p95 Float64, p99 Float64)') AS latencyNano
FROM (
  SELECT
    SpanName AS operation,
    ${BOTH_MEASURES},
    sum(entries) OVER () AS serviceEntries
  FROM ${table(db, 'otel_traces')}
  ${where(conditions(s))}
  GROUP BY SpanName
)
WHERE requests > 0
ORDER BY requests DESC, operation
LIMIT ${param('UInt32', s.limit)}`;
}
