/**
 * GET /api/v1/logs: log records, newest first, paged with a cursor.
 * GET /api/v1/logs/histogram: record counts per time bucket, optionally per severity class.
 * GET /api/v1/logs/facets: top values and counts of namespace, pod, service and severity for a search.
 * GET /api/v1/logs/context: the surrounding lines of a record, from its pod and container (or its service).
 */
import { defineFeature } from '../features.ts';
import type { FastifyPluginCallback } from 'fastify';
import { AppError } from '#core/errors.ts';
import type { Store } from '#storage/client.ts';
import type {
  LogBucket,
  LogContextQuery,
  LogContextResponse,
  LogFacet,
  LogFacetsQuery,
  LogFacetsResponse,
  LogHistogramQuery,
  LogHistogramResponse,
  LogRecord,
  LogSearchQuery,
  LogSearchResponse,
} from '../contract.ts';
import { parseAttrFilters, parseSeverity, parseTraceId } from '../params/filters.ts';
import { NS_PER_MS, parseDurationNs, resolveRange, resolveStepMs } from '../params/time.ts';
import { runQuery, trimToLimit } from '../run.ts';
import { FACET_FIELDS, TARGET_BUCKETS, logContextSchema, logFacetsSchema, logHistogramSchema, logSearchSchema } from '../schemas/logs.ts';
import {
  type LogContext,
  type LogCursor,
  type LogFilters,
  type LogSearch,
  type LogSource,
  logContextSql,
  logCountSql,
  logFacetsSql,
  logHistogramSql,
  logSearchSql,
} from '../sql/logs.ts';

export { TARGET_BUCKETS };

export interface LogRouteOptions {
  store: Store;
}

/** The filters the searching log routes take. */
export type LogFilterParams = Pick<LogSearchQuery & LogHistogramQuery, 'start' | 'end' | 'service' | 'severity' | 'traceId' | 'spanId' | 'attr' | 'q'>;

interface LogSearchRoute {
  Querystring: LogSearchQuery;
  Reply: { 200: LogSearchResponse };
}

interface LogHistogramRoute {
  Querystring: LogHistogramQuery;
  Reply: { 200: LogHistogramResponse };
}

interface LogFacetsRoute {
  Querystring: LogFacetsQuery;
  Reply: { 200: LogFacetsResponse };
}

interface LogContextRoute {
  Querystring: LogContextQuery;
  Reply: { 200: LogContextResponse };
}

/** 16 hex characters, normalised to lowercase as stored. */
export function parseSpanId(raw: string): string {
  if (!/^[0-9a-fA-F]{16}$/.test(raw)) throw new AppError('BAD_REQUEST', 'querystring/spanId must be 16 hexadecimal characters');
  return raw.toLowerCase();
}

export function toLogFilters(q: LogFilterParams, nowMs: number): LogFilters {
  return {
    range: resolveRange(q, nowMs),
    service: q.service,
    minSeverity: parseSeverity(q.severity),
    traceId: q.traceId === undefined ? undefined : parseTraceId(q.traceId, 'traceId', 'querystring'),
    spanId: q.spanId === undefined ? undefined : parseSpanId(q.spanId),
    attrs: parseAttrFilters('attr', q.attr),
    q: q.q,
  };
}

/** Cursors are opaque to clients: base64url of `<timestamp ns>.<row hash>`. */
export function encodeCursor(c: { timeUnixNano: string; rowHash: string }): string {
  return Buffer.from(`${c.timeUnixNano}.${c.rowHash}`).toString('base64url');
}

export function decodeCursor(raw: string): LogCursor {
  const m = /^(\d{1,20})\.(\d{1,20})$/.exec(Buffer.from(raw, 'base64url').toString('latin1'));
  if (!m || BigInt(m[2]!) > 0xffff_ffff_ffff_ffffn) throw new AppError('BAD_REQUEST', 'querystring/cursor is not a cursor this API returned');
  return { tsNs: BigInt(m[1]!), hash: m[2]! };
}

export function toLogSearch(q: LogSearchQuery, nowMs: number): LogSearch {
  return { ...toLogFilters(q, nowMs), limit: q.limit, cursor: q.cursor === undefined ? undefined : decodeCursor(q.cursor) };
}

/** A record as the search SQL selects it: the schema's fields and the row hash the cursor is made of (not serialized). */
type LogRow = LogRecord & { rowHash: string };

/** Default and longest look-around of the context route, each side. */
const CONTEXT_WINDOW_NS = 3_600_000n * NS_PER_MS;
const MAX_CONTEXT_WINDOW_NS = 86_400_000n * NS_PER_MS;
/** Latest anchor accepted: year 2262, the end of DateTime64(9). */
const MAX_NS = 9_223_372_036_854_775_807n;

export function toLogContext(q: LogContextQuery): LogContext {
  const bad = (m: string) => new AppError('BAD_REQUEST', `querystring/${m}`);
  if (q.time.length > 19 || q.time.startsWith('-') || BigInt(q.time) > MAX_NS) throw bad('time must be nanoseconds since the epoch (a record\'s timeUnixNano)');
  let source: LogSource;
  if (q.pod !== undefined && q.pod !== '') source = { kind: 'pod', pod: q.pod, container: q.container, namespace: q.namespace };
  else if (q.service !== undefined) source = { kind: 'service', service: q.service };
  else throw bad('pod or querystring/service is required: the source of the lines (the record\'s k8s.pod.name, or its service)');
  let windowNs = CONTEXT_WINDOW_NS;
  if (q.window !== undefined) {
    const w = parseDurationNs(q.window, 's');
    if (w === undefined || w <= 0n) throw bad(`window must be a duration (10m, 1h) or seconds, got "${q.window.slice(0, 32)}"`);
    if (w > MAX_CONTEXT_WINDOW_NS) throw bad('window must be at most 1d');
    windowNs = w;
  }
  return { source, atNs: BigInt(q.time), before: q.before, after: q.after, windowNs };
}

/** The context rows (ordered by time and hash, `part` 0/1/2) as the route's answer. */
export function toContextResponse(rows: (LogRow & { part: number | string })[], x: LogContext): LogContextResponse {
  const part = (r: { part: number | string }) => Number(r.part);
  const before = rows.filter((r) => part(r) === 0);
  const at = rows.filter((r) => part(r) === 1);
  const after = rows.filter((r) => part(r) === 2);
  const moreBefore = before.length > x.before;
  const moreAfter = after.length > x.after;
  // Before rows are oldest first here: the extra (farthest) one is the first.
  if (moreBefore) before.shift();
  if (moreAfter) after.pop();
  const s = x.source;
  const source = s.kind === 'service' ? s.service : `${s.namespace ? `${s.namespace}/` : ''}${s.pod}${s.container !== undefined ? `/${s.container}` : ''}`;
  return { logs: [...before, ...at, ...after], at: { index: before.length, count: at.length }, moreBefore, moreAfter, source };
}

export const logRoutes: FastifyPluginCallback<LogRouteOptions> = (app, { store }, done) => {
  app.get<LogSearchRoute>('/logs', { schema: logSearchSchema }, async (req) => {
    const s = toLogSearch(req.query, Date.now());
    const logs = await runQuery<LogRow>(store, logSearchSql(store.database, s));
    if (!trimToLimit(logs, s.limit)) return { logs };
    return { logs, nextCursor: encodeCursor(logs[logs.length - 1]!) };
  });

  app.get<LogHistogramRoute>('/logs/histogram', { schema: logHistogramSchema }, async (req) => {
    const f = toLogFilters(req.query, Date.now());
    const bucketMs = resolveStepMs('bucket', req.query.bucket, f.range, TARGET_BUCKETS);
    const buckets = await runQuery<LogBucket>(store, logHistogramSql(store.database, f, bucketMs, req.query.by === 'severity'));
    return { bucketMs, buckets };
  });

  app.get<LogFacetsRoute>('/logs/facets', { schema: logFacetsSchema }, async (req) => {
    const f = toLogFilters(req.query, Date.now());
    const rows = await runQuery<{ field: LogFacet['field']; value: string; count: number | string; distinct: number | string }>(store, logFacetsSql(store.database, f, req.query.limit));
    const facets: LogFacet[] = FACET_FIELDS.map((field) => ({ field, values: [], distinct: 0 }));
    for (const r of rows) {
      const facet = facets.find((x) => x.field === r.field);
      if (facet === undefined) continue;
      facet.values.push({ value: r.value, count: Number(r.count) });
      facet.distinct = Number(r.distinct);
    }
    // Every record has exactly one severity class, so that field's counts add up to the total, when all are listed
    // (there are at most 7 classes; a smaller limit still gets the total from the same rows via another query).
    const sev = facets.find((x) => x.field === 'severity')!;
    let total = sev.values.reduce((n, v) => n + v.count, 0);
    if (sev.distinct > sev.values.length) total = await countLogs(store, f);
    return { total, facets };
  });

  app.get<LogContextRoute>('/logs/context', { schema: logContextSchema }, async (req) => {
    const x = toLogContext(req.query);
    const rows = await runQuery<LogRow & { part: number | string }>(store, logContextSql(store.database, x));
    return toContextResponse(rows, x);
  });
  done();
};

async function countLogs(store: Store, f: LogFilters): Promise<number> {
  const rows = await runQuery<{ count: number | string }>(store, logCountSql(store.database, f));
  return Number(rows[0]?.count ?? 0);
}

/** Registered by the query API (../features.ts). */
export const feature = defineFeature({ name: 'logs', needs: ['store'], plugin: logRoutes });
