/**
 * Log queries: search (newest first, keyset-paged), the counts-per-bucket histogram, the facet counts of a
 * search (one scan, GROUPING SETS) and the surrounding lines of a record (its pod and container, or service).
 */
import { param, sql, unsafeRaw, type Sql } from '#storage/sql.ts';
import { type AttrFilter, textTokens } from '../params/filters.ts';
import { type TimeRange, NS_PER_MS } from '../params/time.ts';
import { attrFilters, table, ts, where, within } from './common.ts';

export interface LogFilters {
  range: TimeRange;
  service?: string | undefined;
  /** Minimum SeverityNumber. */
  minSeverity?: number | undefined;
  traceId?: string | undefined;
  spanId?: string | undefined;
  attrs: readonly AttrFilter[];
  /** Full text. */
  q?: string | undefined;
}

/** Position after the last row of a page: its timestamp and its tie-breaking row hash. */
export interface LogCursor {
  tsNs: bigint;
  hash: string;
}

export interface LogSearch extends LogFilters {
  limit: number;
  cursor?: LogCursor | undefined;
}

/**
 * Tie-breaker for rows with equal timestamps, so pages neither skip nor repeat rows: a hash of what tells two
 * records apart. The attribute maps are left out on purpose: hashing them means reading them for every
 * candidate row, which defeats lazy materialization (maps read only for the rows returned) and made a search
 * several times slower; records identical in all of these and in time are indistinguishable to a reader anyway.
 */
const ROW_HASH = unsafeRaw('cityHash64(ServiceName, Body, TraceId, SpanId, SeverityNumber)');

const LOG_COLUMNS = unsafeRaw(`toString(toUnixTimestamp64Nano(Timestamp)) AS timeUnixNano,
  Timestamp AS time,
  TraceId AS traceId,
  SpanId AS spanId,
  TraceFlags AS traceFlags,
  SeverityText AS severityText,
  SeverityNumber AS severityNumber,
  ServiceName AS serviceName,
  Body AS body,
  EventName AS eventName,
  LogAttributes AS attributes,
  CAST((ResourceAttributes, ResourceSchemaUrl), 'Tuple(attributes Map(String, String), schemaUrl String)') AS resource,
  CAST((ScopeName, ScopeVersion, ScopeAttributes, ScopeSchemaUrl), 'Tuple(name String, version String, attributes Map(String, String), schemaUrl String)') AS scope`);

/**
 * Full text: every word of `q` must be a whole word of the body (`hasToken` on `lower(Body)`, which the
 * tokenbf_v1 index answers, skipping granules without the word), and `q` as a whole must appear in the body,
 * case-insensitively (`positionCaseInsensitive`), so "connection refused" does not match "refused connection".
 */
export function textConditions(q: string): Sql[] {
  const tokens = textTokens(q);
  const c = tokens.map((t) => sql`hasToken(lower(Body), ${param('String', t)})`);
  const lowered = q.replace(/[A-Z]/g, (ch) => ch.toLowerCase());
  // A single word is already checked exactly by hasToken; the phrase check only matters for more.
  if (!(tokens.length === 1 && tokens[0] === lowered)) c.push(sql`positionCaseInsensitive(Body, ${param('String', q)}) > 0`);
  return c;
}

/**
 * otel_logs is ordered by (toStartOfFiveMinutes(Timestamp), ServiceName, Timestamp). ClickHouse does not derive
 * a bound on the first key column from a bound on Timestamp (a measured 84 of 84 granules read for a one-second
 * window), so the five-minute bounds are stated too: the primary index then skips everything outside.
 */
function fiveMinuteBounds(from: Sql | undefined, to: Sql | undefined): Sql[] {
  const c: Sql[] = [];
  if (from) c.push(sql`toStartOfFiveMinutes(Timestamp) >= toStartOfFiveMinutes(${from})`);
  if (to) c.push(sql`toStartOfFiveMinutes(Timestamp) <= toStartOfFiveMinutes(${to})`);
  return c;
}

export function logConditions(f: LogFilters): Sql[] {
  const c: Sql[] = [within('Timestamp', f.range), ...fiveMinuteBounds(ts(f.range.startNs), ts(f.range.endNs))];
  if (f.service !== undefined) c.push(sql`ServiceName = ${param('String', f.service)}`);
  if (f.minSeverity !== undefined) c.push(sql`SeverityNumber >= ${param('UInt8', f.minSeverity)}`);
  if (f.traceId !== undefined) c.push(sql`TraceId = ${param('String', f.traceId)}`);
  if (f.spanId !== undefined) c.push(sql`SpanId = ${param('String', f.spanId)}`);
  c.push(...attrFilters(f.attrs, ['LogAttributes', 'ResourceAttributes']));
  if (f.q !== undefined && f.q !== '') c.push(...textConditions(f.q));
  return c;
}

/**
 * Newest records first, `limit + 1` rows so the route can tell whether a next page exists. The page after a
 * cursor continues strictly below (timestamp, row hash); the `Timestamp <= cursor` bound is stated on its own so
 * it prunes partitions and granules.
 *
 * Without full text, a cheap pre-pass (`boundary`: reading only Timestamp and the cheap filter columns) finds the
 * time of the (limit+1)-th record, and the main read, which hashes bodies for the tie-break, covers only
 * [boundary, end]: about a page of rows instead of the whole range (24 ms instead of 180 ms for an hour of
 * 5M/day). With full text the filter itself reads the bodies, so a pre-pass would do that work twice.
 */
export function logSearchSql(db: string, s: LogSearch): Sql {
  const c = logConditions(s);
  if (s.cursor !== undefined) {
    const at = ts(s.cursor.tsNs);
    c.push(sql`Timestamp <= ${at}`, ...fiveMinuteBounds(undefined, at));
    c.push(sql`(Timestamp < ${at} OR ${ROW_HASH} < ${param('UInt64', s.cursor.hash)})`);
  }
  const limit = param('UInt32', s.limit + 1);
  let pre = unsafeRaw('');
  if (s.q === undefined || s.q === '') {
    const below = [...logConditions(s)];
    if (s.cursor !== undefined) below.push(sql`Timestamp < ${ts(s.cursor.tsNs)}`, ...fiveMinuteBounds(undefined, ts(s.cursor.tsNs)));
    pre = sql`WITH (SELECT min(Timestamp) FROM (
    SELECT Timestamp FROM ${table(db, 'otel_logs')}
    ${where(below)}
    ORDER BY Timestamp DESC
    LIMIT ${limit}
  )) AS boundary
`;
    // Rows below the boundary cannot be on this page: the page holds rows at the cursor time and the newest
    // limit+1 rows below it, all at or after the boundary.
    c.push(sql`Timestamp >= boundary`, ...fiveMinuteBounds(unsafeRaw('boundary'), undefined));
  }
  return sql`${pre}SELECT ${LOG_COLUMNS},
  ${ROW_HASH} AS rowHash
FROM ${table(db, 'otel_logs')}
${where(c)}
ORDER BY Timestamp DESC, rowHash DESC
LIMIT ${limit}`;
}

/**
 * Severity class of a SeverityNumber per the OTel ranges (1-4 TRACE … 21-24 FATAL, 0 UNSPECIFIED), grouped as a
 * number and named only on the few result rows: grouping by the name string was 2.5× slower over 5M rows.
 */
const SEVERITY_CLASS = unsafeRaw('intDiv(SeverityNumber + 3, 4)');
const SEVERITY_NAME = unsafeRaw("['UNSPECIFIED', 'TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'][least(severityClass, 6) + 1]");

/**
 * Records per bucket (epoch-aligned, `bucketMs` wide), every bucket of the range present (`WITH FILL`), and
 * optionally per severity class. `t` is the bucket start in epoch milliseconds.
 */
export function logHistogramSql(db: string, f: LogFilters, bucketMs: number, bySeverity: boolean): Sql {
  const b = BigInt(bucketMs);
  const first = (f.range.startNs / NS_PER_MS / b) * b;
  const last = (f.range.endNs / NS_PER_MS / b) * b;
  const bucket = sql`toFloat64(intDiv(toUnixTimestamp64Milli(Timestamp), ${param('Int64', bucketMs)}) * ${param('Int64', bucketMs)})`;
  const fill = sql`WITH FILL FROM ${param('Float64', Number(first))} TO ${param('Float64', Number(last + b))} STEP ${param('Float64', bucketMs)}`;
  if (!bySeverity) {
    return sql`SELECT ${bucket} AS t, toFloat64(count()) AS count
FROM ${table(db, 'otel_logs')}
${where(logConditions(f))}
GROUP BY t
ORDER BY t ${fill}`;
  }
  return sql`SELECT t, sum(c) AS count, CAST(mapFromArrays(groupArray(${SEVERITY_NAME}), groupArray(c)), 'Map(String, Float64)') AS bySeverity
FROM (
  SELECT ${bucket} AS t, ${SEVERITY_CLASS} AS severityClass, toFloat64(count()) AS c
  FROM ${table(db, 'otel_logs')}
  ${where(logConditions(f))}
  GROUP BY t, severityClass
)
GROUP BY t
ORDER BY t ${fill}`;
}

/**
 * Top values per facet field with their counts, for the records a search matches, in one scan: GROUPING SETS
 * aggregates each field on its own, `grouping()` tells which set a row belongs to (0 = grouped by that column),
 * a window count gives each field's number of distinct values, and `LIMIT n BY field` keeps the top `n`.
 * The Kubernetes fields read the table's materialized columns (`__k8s_*`, one LowCardinality column each) rather
 * than the resource map, which is far bigger to read. Severity is counted per class, named on the result rows.
 */
export function logFacetsSql(db: string, f: LogFilters, limit: number): Sql {
  return sql`SELECT field, value, count, distinct
FROM (
  SELECT field, value, count, count() OVER (PARTITION BY field) AS distinct
  FROM (
    SELECT
      multiIf(grouping(__k8s_namespace_name) = 0, 'k8s.namespace.name', grouping(__k8s_pod_name) = 0, 'k8s.pod.name', grouping(ServiceName) = 0, 'service.name', 'severity') AS field,
      multiIf(
        field = 'k8s.namespace.name', toString(__k8s_namespace_name),
        field = 'k8s.pod.name', toString(__k8s_pod_name),
        field = 'service.name', toString(ServiceName),
        ${SEVERITY_NAME}
      ) AS value,
      count() AS count
    FROM ${table(db, 'otel_logs')}
    ${where(logConditions(f))}
    GROUP BY GROUPING SETS ((__k8s_namespace_name), (__k8s_pod_name), (ServiceName), (${SEVERITY_CLASS} AS severityClass))
  )
)
ORDER BY field, count DESC, value
LIMIT ${param('UInt32', limit)} BY field`;
}

/** Records a search matches. */
export function logCountSql(db: string, f: LogFilters): Sql {
  return sql`SELECT count() AS count FROM ${table(db, 'otel_logs')}
${where(logConditions(f))}`;
}

/** Where surrounding lines come from: a pod's container (namespace optional), or a service. */
export type LogSource =
  | { kind: 'pod'; pod: string; container?: string | undefined; namespace?: string | undefined }
  | { kind: 'service'; service: string };

export interface LogContext {
  source: LogSource;
  /** The anchor record's timestamp. */
  atNs: bigint;
  before: number;
  after: number;
  /** How far from the anchor to look on each side. */
  windowNs: bigint;
}

/** Most records sharing the anchor's exact timestamp the context returns. */
export const MAX_AT = 1000;

function sourceConditions(s: LogSource): Sql[] {
  if (s.kind === 'service') return [sql`ServiceName = ${param('String', s.service)}`];
  const c = [sql`__k8s_pod_name = ${param('String', s.pod)}`];
  if (s.container !== undefined) c.push(sql`__k8s_container_name = ${param('String', s.container)}`);
  if (s.namespace !== undefined) c.push(sql`__k8s_namespace_name = ${param('String', s.namespace)}`);
  return c;
}

/**
 * The records of one source around an anchor time, in three parts read by one statement: up to `before + 1`
 * records before it (newest first, so the nearest are kept), every record at its exact timestamp (≤ MAX_AT), and
 * up to `after + 1` after it; the extra row on each side tells the route whether more exist. Order everywhere is
 * (timestamp, row hash), the search's tie-break, so records sharing a timestamp keep one stable order. Each side
 * is bounded by `windowNs` (with five-minute key bounds, as the search), so a quiet source never scans the table.
 * `part` (0 before, 1 at, 2 after) lets the route split the rows.
 */
export function logContextSql(db: string, x: LogContext): Sql {
  const src = sourceConditions(x.source);
  const at = ts(x.atNs);
  const lo = ts(x.atNs - x.windowNs);
  const hi = ts(x.atNs + x.windowNs);
  const t = table(db, 'otel_logs');
  const before = [...src, sql`Timestamp < ${at}`, sql`Timestamp >= ${lo}`, ...fiveMinuteBounds(lo, at)];
  const exact = [...src, sql`Timestamp = ${at}`, ...fiveMinuteBounds(at, at)];
  const after = [...src, sql`Timestamp > ${at}`, sql`Timestamp <= ${hi}`, ...fiveMinuteBounds(at, hi)];
  return sql`SELECT * FROM (
  (SELECT ${LOG_COLUMNS}, ${ROW_HASH} AS rowHash, 0 AS part FROM ${t}
  ${where(before)}
  ORDER BY Timestamp DESC, rowHash DESC LIMIT ${param('UInt32', x.before + 1)})
  UNION ALL
  (SELECT ${LOG_COLUMNS}, ${ROW_HASH} AS rowHash, 1 AS part FROM ${t}
  ${where(exact)}
  ORDER BY rowHash LIMIT ${param('UInt32', MAX_AT)})
  UNION ALL
  (SELECT ${LOG_COLUMNS}, ${ROW_HASH} AS rowHash, 2 AS part FROM ${t}
  ${where(after)}
  ORDER BY Timestamp, rowHash LIMIT ${param('UInt32', x.after + 1)})
)
ORDER BY time, rowHash`;
}
