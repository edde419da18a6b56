/**
 * Trace queries. Rows come out of ClickHouse already in the API's JSON shape (named tuples render as objects,
 * maps as objects, 64-bit values as decimal strings), so the route only hands them to the serializer.
 */
import { param, sql, unsafeRaw, type Sql } from '#storage/sql.ts';
import type { AttrFilter } from '../params/filters.ts';
import type { TimeRange } from '../params/time.ts';
import { attrFilters, table, where, within } from './common.ts';

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

export type SpanStatus = 'Unset' | 'Ok' | 'Error';

export interface TraceSearch {
  range: TimeRange;
  service?: string | undefined;
  operation?: string | undefined;
  minDurationNs?: bigint | undefined;
  maxDurationNs?: bigint | undefined;
  status?: SpanStatus | undefined;
  attrs: readonly AttrFilter[];
  limit: number;
}

/** Conditions on single spans: a trace matches when one of its spans in the range meets all of them. */
function spanConditions(s: TraceSearch): Sql[] {
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
 * Trace summaries, newest first. Two steps in one statement:
 * 1. the ids of the newest `limit` traces with a matching span in the range (the filters use the sort key
 *    (ServiceName, SpanName, time) and the attribute bloom filters);
 * 2. a summary of every span of those traces (not only the matching ones), read in the traces' own time
 *    window from the lookup table, as for a trace by id.
 * `ids` and `bounds` are scalar subqueries: ClickHouse runs each once and folds it into a constant.
 */
export function traceSearchSql(db: string, s: TraceSearch): Sql {
  return sql`WITH
  (SELECT groupArray(TraceId) FROM (
    SELECT TraceId
    FROM ${table(db, 'otel_traces')}
    ${where(spanConditions(s))}
    GROUP BY TraceId
    ORDER BY min(Timestamp) DESC
    LIMIT ${param('UInt32', s.limit)}
  )) AS ids,
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
  arraySort(groupUniqArray(ServiceName)) AS services
FROM ${table(db, 'otel_traces')}
WHERE TraceId IN ids AND Timestamp >= bounds.1 - 1 AND Timestamp <= bounds.2 + 1
GROUP BY TraceId
ORDER BY startTime DESC, traceId
LIMIT ${param('UInt32', s.limit)}`;
}
