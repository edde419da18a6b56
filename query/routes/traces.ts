/**
 * GET /api/v1/traces/{traceId}: every span of a trace.
 * GET /api/v1/traces: trace search, newest first, as summaries.
 */
import { defineFeature } from '../features.ts';
import type { FastifyPluginCallback } from 'fastify';
import { AppError } from '#core/errors.ts';
import type { Store } from '#storage/client.ts';
import type { Span, TraceParams, TraceQuery, TraceResponse, TraceSearchQuery, TraceSearchResponse, TraceSummary } from '../contract.ts';
import { parseAttrFilters, parseTraceId } from '../params/filters.ts';
import { parseDurationNs, resolveRange } from '../params/time.ts';
import { runQuery, trimToLimit } from '../run.ts';
import { traceSchema, traceSearchSchema } from '../schemas/traces.ts';
import { type TraceSearch, traceByIdSql, traceSearchSql } from '../sql/traces.ts';

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

/** Validated query string → the search the SQL builder takes (exported for the benchmark and tests). */
export function toTraceSearch(q: TraceSearchQuery, nowMs: number): TraceSearch {
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
    limit: q.limit,
  };
}

export const traceRoutes: FastifyPluginCallback<TraceRouteOptions> = (app, { store }, done) => {
  app.get<TraceRoute>('/traces/:traceId', { schema: traceSchema }, async (req) => {
    const traceId = parseTraceId(req.params.traceId);
    // The SQL selects spans in the schema's shape (SPAN_COLUMNS).
    const spans = await runQuery<Span>(store, traceByIdSql(store.database, traceId, req.query.limit));
    if (spans.length === 0) throw new AppError('NOT_FOUND', `trace ${traceId} not found`);
    const truncated = trimToLimit(spans, req.query.limit);
    return { traceId, spans, truncated };
  });

  app.get<TraceSearchRoute>('/traces', { schema: traceSearchSchema }, async (req) => {
    const traces = await runQuery<TraceSummary>(store, traceSearchSql(store.database, toTraceSearch(req.query, Date.now())));
    return { traces };
  });
  done();
};

/** Registered by the query API (../features.ts). */
export const feature = defineFeature({ name: 'traces', needs: ['store'], plugin: traceRoutes });
