/**
 * GET /api/v1/traces/{traceId}: every span of a trace.
 * GET /api/v1/traces: trace search, newest first, as summaries, paged with a cursor.
 * GET /api/v1/traces/scatter: duration over time of the matching spans (the search page's chart), capped.
 */
import { defineFeature } from '../features.ts';
import type { FastifyPluginCallback } from 'fastify';
import { AppError } from '#core/errors.ts';
import type { Store } from '#storage/client.ts';
import type {
  ScatterPoint,
  Span,
  TraceParams,
  TraceQuery,
  TraceResponse,
  TraceScatterQuery,
  TraceScatterResponse,
  TraceSearchQuery,
  TraceSearchResponse,
  TraceSummary,
} from '../contract.ts';
import { parseAttrFilters, parseTraceId } from '../params/filters.ts';
import { parseDurationNs, resolveRange } from '../params/time.ts';
import { runQuery, trimToLimit } from '../run.ts';
import { traceScatterSchema, traceSchema, traceSearchSchema } from '../schemas/traces.ts';
import { type TraceCursor, type TraceFilters, type TraceSearch, traceByIdSql, traceScatterSql, traceSearchSql } from '../sql/traces.ts';

export interface TraceRouteOptions {
  store: Store;
}

interface TraceRoute {
  Params: TraceParams;
  Querystring: TraceQuery;
  Reply: { 200: TraceResponse };
}

interface TraceSearchRoute {
  Querystring: TraceSearchQuery;
  Reply: { 200: TraceSearchResponse };
}

interface TraceScatterRoute {
  Querystring: TraceScatterQuery;
  Reply: { 200: TraceScatterResponse };
}

/** Cursors are opaque to clients: base64url of `<matching time ns>.<trace id>`. */
export function encodeTraceCursor(c: { matchTimeUnixNano: string; traceId: string }): string {
  return Buffer.from(`${c.matchTimeUnixNano}.${c.traceId}`).toString('base64url');
}

export function decodeTraceCursor(raw: string): TraceCursor {
  const m = /^(\d{1,20})\.([0-9a-f]{32})$/.exec(Buffer.from(raw, 'base64url').toString('latin1'));
  if (!m) throw new AppError('BAD_REQUEST', 'querystring/cursor is not a cursor this API returned');
  return { tsNs: BigInt(m[1]!), traceId: m[2]! };
}

/** Validated filters → what the SQL builders take. */
export function toTraceFilters(q: TraceScatterQuery | TraceSearchQuery, nowMs: number): TraceFilters {
  const duration = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const ns = parseDurationNs(v, 'ns');
    if (ns === undefined) throw new AppError('BAD_REQUEST', `querystring/${name} must be nanoseconds or a duration like 250ms, got "${v.slice(0, 64)}"`);
    return ns;
  };
  const minDurationNs = duration('minDuration', q.minDuration);
  const maxDurationNs = duration('maxDuration', q.maxDuration);
  if (minDurationNs !== undefined && maxDurationNs !== undefined && minDurationNs > maxDurationNs) {
    throw new AppError('BAD_REQUEST', 'querystring/minDuration must not exceed maxDuration');
  }
  return {
    range: resolveRange(q, nowMs),
    service: q.service,
    operation: q.operation,
    minDurationNs,
    maxDurationNs,
    status: q.status,
    attrs: parseAttrFilters('attr', q.attr),
  };
}

/** Validated query string → the search the SQL builder takes (exported for the benchmark and tests). */
export function toTraceSearch(q: TraceSearchQuery, nowMs: number): TraceSearch {
  return { ...toTraceFilters(q, nowMs), limit: q.limit, cursor: q.cursor === undefined ? undefined : decodeTraceCursor(q.cursor) };
}

/** A summary as the search SQL selects it: the schema's fields and the cursor's time (not serialized). */
type SummaryRow = TraceSummary & { matchTimeUnixNano: string };
type ScatterRow = ScatterPoint & { total: number };

export const traceRoutes: FastifyPluginCallback<TraceRouteOptions> = (app, { store }, done) => {
  // A 10,000-span trace is 5.6 MB of JSON: the schema-compiled serializer took about a second for it (with its
  // Map-shaped attributes), JSON.stringify ~0.1 s. The SQL already selects exactly the schema's shape (SPAN_COLUMNS),
  // so the schema still documents and types the answer, and nothing is lost by not filtering it again.
  app.get<TraceRoute>('/traces/:traceId', { schema: traceSchema, serializerCompiler: () => (data) => JSON.stringify(data) }, async (req) => {
    const traceId = parseTraceId(req.params.traceId);
    // The SQL selects spans in the schema's shape (SPAN_COLUMNS).
    const spans = await runQuery<Span>(store, traceByIdSql(store.database, traceId, req.query.limit));
    if (spans.length === 0) throw new AppError('NOT_FOUND', `trace ${traceId} not found`);
    const truncated = trimToLimit(spans, req.query.limit);
    return { traceId, spans, truncated };
  });

  app.get<TraceSearchRoute>('/traces', { schema: traceSearchSchema }, async (req) => {
    const s = toTraceSearch(req.query, Date.now());
    const traces = await runQuery<SummaryRow>(store, traceSearchSql(store.database, s));
    if (!trimToLimit(traces, s.limit)) return { traces };
    return { traces, nextCursor: encodeTraceCursor(traces[traces.length - 1]!) };
  });

  app.get<TraceScatterRoute>('/traces/scatter', { schema: traceScatterSchema }, async (req) => {
    const points = await runQuery<ScatterRow>(store, traceScatterSql(store.database, toTraceFilters(req.query, Date.now()), req.query.limit));
    const total = points[0]?.total ?? 0;
    return { points, total, sampled: total > points.length };
  });
  done();
};

/** Registered by the query API (../features.ts). */
export const feature = defineFeature({ name: 'traces', needs: ['store'], plugin: traceRoutes });
