/**
 * Trace queries. Rows come out of ClickHouse already in the API's JSON shape (named tuples render as objects,
 * maps as objects, 64-bit values as decimal strings), so the route only hands them to the serializer.
 */
import { param, sql, unsafeRaw, type Sql } from '#storage/sql.ts';
import type { AttrFilter } from '../params/filters.ts';
import type { TimeRange } from '../params/time.ts';
import { attrFilters, table, ts, where, within } from './common.ts';

/** One span in the API shape (see the `span` schema in query/schemas.ts). */
export const SPAN_COLUMNS = unsafeRaw(`TraceId AS traceId,
  SpanId AS spanId,
  ParentSpanId AS parentSpanId,
  TraceState AS traceState,
  SpanName AS name,
  SpanKind AS kind,
  ServiceName AS serviceName,
  toString(toUnixTimestamp64Nano(Timestamp)) AS startTimeUnixNano,
  Timestamp AS startTime,
  toString(Duration) AS durationNano,
  CAST((StatusCode, StatusMessage), 'Tuple(code String, message String)') AS status,
  SpanAttributes AS attributes,
  CAST(tuple(ResourceAttributes), 'Tuple(attributes Map(String, String))') AS resource,
  CAST((ScopeName, ScopeVersion), 'Tuple(name String, version String)') AS scope,
  arrayMap((t, n, a) -> CAST((toString(toUnixTimestamp64Nano(t)), n, a), 'Tuple(timeUnixNano String, name String, attributes Map(String, String))'),
    \`Events.Timestamp\`, \`Events.Name\`, \`Events.Attributes\`) AS events,
  arrayMap((t, s, st, a) -> CAST((t, s, st, a), 'Tuple(traceId String, spanId String, traceState String, attributes Map(String, String))'),
    \`Links.TraceId\`, \`Links.SpanId\`, \`Links.TraceState\`, \`Links.Attributes\`) AS links`);

/**
 * Every span of one trace. The exporter's lookup table (`otel_traces_trace_id_ts`, ordered by TraceId) gives
 * the trace's time window first, so the span read prunes partitions and granules by time instead of scanning
 * every part for the bloom-filtered id. The window is whole seconds (DateTime), hence a second of slack.
 * Returns at most `limit + 1` rows so the caller can tell a truncated trace.
 */
export function traceByIdSql(db: string, traceId: string, limit: number): Sql {
  return sql`WITH (SELECT (min(Start), max(End)) FROM ${table(db, 'otel_traces_trace_id_ts')} WHERE TraceId = ${param('String', traceId)}) AS bounds
SELECT ${SPAN_COLUMNS}
FROM ${table(db, 'otel_traces')}
WHERE TraceId = ${param('String', traceId)}
  AND Timestamp >= bounds.1 - 1 AND Timestamp <= bounds.2 + 1
ORDER BY Timestamp, SpanId
LIMIT ${param('UInt32', limit + 1)}`;
}

/**
 * The compact trace (`shape=compact`), step 1: every span's own columns, raw, with a key of its resource (service
 * name + resource attributes) and of its scope instead of the values; `traceResources` reads those once, and
 * `traceEventsSql` the events and links of the few spans that have any. No CASTs into tuples or maps, no
 * per-span resource map, no nested columns: on a 10,000-span trace (load ~7) this read ~58 ms against ~103 ms
 * with the seven Events/Links arrays (empty ones included) and ~118 ms for the full shape's query.
 * Times and durations as decimal strings (64-bit, exact); the route turns them into offsets.
 * Returns at most `limit + 1` rows, like `traceByIdSql`.
 */
export function traceSpansCompactSql(db: string, traceId: string, limit: number): Sql {
  return sql`WITH (SELECT (min(Start), max(End)) FROM ${table(db, 'otel_traces_trace_id_ts')} WHERE TraceId = ${param('String', traceId)}) AS bounds
SELECT
  SpanId AS spanId,
  ParentSpanId AS parentSpanId,
  TraceState AS traceState,
  SpanName AS name,
  SpanKind AS kind,
  toString(toUnixTimestamp64Nano(Timestamp)) AS startNs,
  toString(Duration) AS durationNs,
  StatusCode AS statusCode,
  StatusMessage AS statusMessage,
  SpanAttributes AS attributes,
  toString(cityHash64(ServiceName, ResourceAttributes)) AS resourceKey,
  toString(cityHash64(ScopeName, ScopeVersion)) AS scopeKey,
  notEmpty(\`Events.Name\`) OR notEmpty(\`Links.SpanId\`) AS nested
FROM ${table(db, 'otel_traces')}
WHERE TraceId = ${param('String', traceId)}
  AND Timestamp >= bounds.1 - 1 AND Timestamp <= bounds.2 + 1
ORDER BY Timestamp, SpanId
LIMIT ${param('UInt32', limit + 1)}`;
}

/**
 * The compact trace, step 3 (only when step 1 saw a span with events or links): those spans' events and links,
 * by span id and start (a span stored twice, a retried export, is the same span twice). The condition reads the
 * arrays' sizes only (subcolumns), so the arrays themselves are read for the granules that have any.
 */
export function traceEventsSql(db: string, traceId: string): Sql {
  return sql`WITH (SELECT (min(Start), max(End)) FROM ${table(db, 'otel_traces_trace_id_ts')} WHERE TraceId = ${param('String', traceId)}) AS bounds
SELECT
  SpanId AS spanId,
  toString(toUnixTimestamp64Nano(Timestamp)) AS startNs,
  arrayMap(t -> toString(toUnixTimestamp64Nano(t)), \`Events.Timestamp\`) AS eventTimes,
  \`Events.Name\` AS eventNames,
  \`Events.Attributes\` AS eventAttributes,
  \`Links.TraceId\` AS linkTraceIds,
  \`Links.SpanId\` AS linkSpanIds,
  \`Links.TraceState\` AS linkTraceStates,
  \`Links.Attributes\` AS linkAttributes
FROM ${table(db, 'otel_traces')}
WHERE TraceId = ${param('String', traceId)}
  AND Timestamp >= bounds.1 - 1 AND Timestamp <= bounds.2 + 1
  AND (notEmpty(\`Events.Name\`) OR notEmpty(\`Links.SpanId\`))`;
}

/**
 * The compact trace, step 2: each distinct (resource, scope) pair of the trace once, with the keys step 1 gave
 * its spans (~15-20 ms on 10,000 spans: one GROUP BY over the same granules). Run after step 1, so it sees
 * every span step 1 saw (spans are only ever added); pairs of spans past the limit are simply not referenced.
 */
export function traceResourcesSql(db: string, traceId: string): Sql {
  return sql`WITH (SELECT (min(Start), max(End)) FROM ${table(db, 'otel_traces_trace_id_ts')} WHERE TraceId = ${param('String', traceId)}) AS bounds
SELECT
  toString(cityHash64(ServiceName, ResourceAttributes)) AS resourceKey,
  toString(cityHash64(ScopeName, ScopeVersion)) AS scopeKey,
  any(ServiceName) AS serviceName,
  any(ResourceAttributes) AS resourceAttributes,
  any(ScopeName) AS scopeName,
  any(ScopeVersion) AS scopeVersion
FROM ${table(db, 'otel_traces')}
WHERE TraceId = ${param('String', traceId)}
  AND Timestamp >= bounds.1 - 1 AND Timestamp <= bounds.2 + 1
GROUP BY resourceKey, scopeKey
ORDER BY min(Timestamp), resourceKey, scopeKey`;
}

export type SpanStatus = 'Unset' | 'Ok' | 'Error';

/** The filters of a trace search and of its scatter. */
export interface TraceFilters {
  range: TimeRange;
  service?: string | undefined;
  operation?: string | undefined;
  minDurationNs?: bigint | undefined;
  maxDurationNs?: bigint | undefined;
  status?: SpanStatus | undefined;
  attrs: readonly AttrFilter[];
}

/** Position after the last trace of a page: its matching time and its id (ties broken by id, descending). */
export interface TraceCursor {
  tsNs: bigint;
  traceId: string;
}

export interface TraceSearch extends TraceFilters {
  limit: number;
  cursor?: TraceCursor | undefined;
}

/** Conditions on single spans: a trace matches when one of its spans in the range meets all of them. */
function spanConditions(s: TraceFilters): Sql[] {
  const c: Sql[] = [within('Timestamp', s.range)];
  if (s.service !== undefined) c.push(sql`ServiceName = ${param('String', s.service)}`);
  if (s.operation !== undefined) c.push(sql`SpanName = ${param('String', s.operation)}`);
  if (s.minDurationNs !== undefined) c.push(sql`Duration >= ${param('UInt64', s.minDurationNs.toString())}`);
  if (s.maxDurationNs !== undefined) c.push(sql`Duration <= ${param('UInt64', s.maxDurationNs.toString())}`);
  if (s.status !== undefined) c.push(sql`StatusCode = ${param('String', s.status)}`);
  c.push(...attrFilters(s.attrs, ['SpanAttributes', 'ResourceAttributes']));
  return c;
}

/**
 * Trace summaries, newest first, keyset-paged. Two steps in one statement:
 * 1. `found`: the newest `limit + 1` traces with a matching span in the range, each with the time of its
 *    earliest matching span (the sort key: a trace is "newest" by when it matched, so a page boundary never
 *    moves when a trace grows). After a cursor, only traces strictly below (time, id). The `Timestamp <= cursor`
 *    bound leaves every qualifying trace's earliest match unchanged (that match is at or before the cursor) and
 *    prunes granules by time. The filters use the sort key (ServiceName, SpanName, time) and the attribute
 *    bloom filters;
 * 2. a summary of every span of those traces (not only the matching ones), read in the traces' own time
 *    window from the lookup table, as for a trace by id, in the order of step 1.
 * `found` and `bounds` are scalar subqueries: ClickHouse runs each once and folds it into a constant.
 * `limit + 1` rows come back so the route can tell whether there is a next page.
 */
export function traceSearchSql(db: string, s: TraceSearch): Sql {
  const c = spanConditions(s);
  let having = unsafeRaw('');
  if (s.cursor !== undefined) {
    c.push(sql`Timestamp <= ${ts(s.cursor.tsNs)}`);
    having = sql`
    HAVING m < ${ts(s.cursor.tsNs)} OR (m = ${ts(s.cursor.tsNs)} AND TraceId < ${param('String', s.cursor.traceId)})`;
  }
  return sql`WITH
  (SELECT groupArray((TraceId, m)) FROM (
    SELECT TraceId, min(Timestamp) AS m
    FROM ${table(db, 'otel_traces')}
    ${where(c)}
    GROUP BY TraceId${having}
    ORDER BY m DESC, TraceId DESC
    LIMIT ${param('UInt32', s.limit + 1)}
  )) AS found,
  arrayMap(x -> x.1, found) AS ids,
  (SELECT (min(Start), max(End)) FROM ${table(db, 'otel_traces_trace_id_ts')} WHERE TraceId IN ids) AS bounds
SELECT
  TraceId AS traceId,
  argMin(ServiceName, (ParentSpanId != '', Timestamp)) AS rootServiceName,
  argMin(SpanName, (ParentSpanId != '', Timestamp)) AS rootSpanName,
  min(Timestamp) AS startTime,
  toString(toUnixTimestamp64Nano(startTime)) AS startTimeUnixNano,
  toString(max(toUnixTimestamp64Nano(Timestamp) + toInt64(Duration)) - toUnixTimestamp64Nano(startTime)) AS durationNano,
  toUInt32(count()) AS spanCount,
  toUInt32(countIf(StatusCode = 'Error')) AS errorCount,
  arraySort(groupUniqArray(ServiceName)) AS services,
  toString(toUnixTimestamp64Nano(found[indexOf(ids, TraceId)].2)) AS matchTimeUnixNano
FROM ${table(db, 'otel_traces')}
WHERE TraceId IN ids AND Timestamp >= bounds.1 - 1 AND Timestamp <= bounds.2 + 1
GROUP BY TraceId
ORDER BY indexOf(ids, TraceId)
LIMIT ${param('UInt32', s.limit + 1)}`;
}

/**
 * Points of the duration-over-time scatter: spans matching the filters (without a service or operation filter,
 * root spans only: one point per trace, its duration the trace's). At most `limit` points: when more match, a
 * uniform sample (the lowest span-id hashes, stable across refreshes), plus how many matched in all, so the
 * chart can say it is sampled. The sample scans the matching rows' small columns once; the count is a second,
 * cheaper pass over the same granules.
 */
export function traceScatterSql(db: string, f: TraceFilters, limit: number): Sql {
  const c = spanConditions(f);
  if (f.service === undefined && f.operation === undefined) c.push(sql`ParentSpanId = ''`);
  return sql`WITH (SELECT count() FROM ${table(db, 'otel_traces')} ${where(c)}) AS matched
SELECT
  toString(toUnixTimestamp64Nano(Timestamp)) AS startTimeUnixNano,
  toString(Duration) AS durationNano,
  StatusCode AS status,
  TraceId AS traceId,
  SpanId AS spanId,
  ServiceName AS serviceName,
  SpanName AS name,
  toFloat64(matched) AS total
FROM ${table(db, 'otel_traces')}
${where(c)}
ORDER BY cityHash64(SpanId), Timestamp
LIMIT ${param('UInt32', limit)}`;
}
