/**
 * GET /api/v1/traces/{traceId}: every span of a trace.
 * GET /api/v1/traces: trace search, newest first, as summaries.
 */
import type { FastifyPluginCallback } from 'fastify';
import { AppError } from '#core/errors.ts';
import type { Store } from '#storage/client.ts';
import { parseAttrFilters, parseTraceId } from '../params/filters.ts';
import { parseDurationNs, resolveRange } from '../params/time.ts';
import { runQuery, trimToLimit } from '../run.ts';
import { ATTRIBUTES_DESCRIPTION, errorBody, errorResponses, iso, limitParam, nanos, repeatable, span, timeRangeParams } from '../schemas.ts';
import { type SpanStatus, type TraceSearch, traceByIdSql, traceSearchSql } from '../sql/traces.ts';

export interface TraceRouteOptions {
  store: Store;
}

interface TraceByIdRoute {
  Params: { traceId: string };
  Querystring: { limit: number };
}

export interface TraceSearchParams {
  start?: string;
  end?: string;
  service?: string;
  operation?: string;
  minDuration?: string;
  maxDuration?: string;
  status?: SpanStatus;
  attr?: string[];
  limit: number;
}

/** Validated query string → the search the SQL builder takes (exported for the benchmark and tests). */
export function toTraceSearch(q: TraceSearchParams, nowMs: number): TraceSearch {
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

const DURATION_DESCRIPTION = 'Nanoseconds, or a number with a unit: ns, us, ms, s, m, h (250ms, 1.5s, 1m30s).';

const traceSummary = {
  type: 'object',
  properties: {
    traceId: { type: 'string' },
    rootServiceName: { type: 'string', description: 'Service of the root span (the earliest span when the root is missing).' },
    rootSpanName: { type: 'string' },
    startTimeUnixNano: nanos('Start of the earliest span, nanoseconds since the epoch.'),
    startTime: iso('Start of the earliest span'),
    durationNano: nanos('From the earliest start to the latest end, nanoseconds.'),
    spanCount: { type: 'integer' },
    errorCount: { type: 'integer', description: 'Spans with status Error.' },
    services: { type: 'array', items: { type: 'string' } },
  },
  required: ['traceId', 'rootServiceName', 'rootSpanName', 'startTimeUnixNano', 'startTime', 'durationNano', 'spanCount', 'errorCount', 'services'],
} as const;

export const traceRoutes: FastifyPluginCallback<TraceRouteOptions> = (app, { store }, done) => {
  app.get<TraceByIdRoute>(
    '/traces/:traceId',
    {
      schema: {
        tags: ['traces'],
        summary: 'Every span of one trace, in start order.',
        params: {
          type: 'object',
          properties: { traceId: { type: 'string', pattern: '^[0-9a-fA-F]{32}$', description: '32 hex characters.' } },
          required: ['traceId'],
        },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: limitParam(50_000, 10_000, 'spans') },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              traceId: { type: 'string' },
              spans: { type: 'array', items: span },
              truncated: { type: 'boolean', description: 'The trace has more spans than `limit`.' },
            },
            required: ['traceId', 'spans', 'truncated'],
          },
          404: { ...errorBody, description: 'No span of this trace is stored.' },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const traceId = parseTraceId(req.params.traceId);
      const spans = await runQuery<unknown>(store, traceByIdSql(store.database, traceId, req.query.limit));
      if (spans.length === 0) throw new AppError('NOT_FOUND', `trace ${traceId} not found`);
      const truncated = trimToLimit(spans, req.query.limit);
      return { traceId, spans, truncated };
    },
  );

  app.get<{ Querystring: TraceSearchParams }>(
    '/traces',
    {
      schema: {
        tags: ['traces'],
        summary: 'Search traces with a span matching every filter; newest first, as summaries.',
        description:
          'A trace matches when one of its spans in the time range meets all filters (service, operation, duration, status, ' +
          'attributes). Summaries cover all spans of the trace. Attribute filters compare the stored string form: ' +
          ATTRIBUTES_DESCRIPTION,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...timeRangeParams,
            service: { type: 'string', maxLength: 1024, description: 'ServiceName of the matching span.' },
            operation: { type: 'string', maxLength: 1024, description: 'SpanName of the matching span.' },
            minDuration: { type: 'string', maxLength: 64, description: `Minimum span duration. ${DURATION_DESCRIPTION}` },
            maxDuration: { type: 'string', maxLength: 64, description: `Maximum span duration. ${DURATION_DESCRIPTION}` },
            status: { type: 'string', enum: ['Unset', 'Ok', 'Error'], description: 'Span status code.' },
            attr: repeatable('key=value: the span or its resource has this attribute value.'),
            limit: limitParam(1000, 100, 'traces'),
          },
        },
        response: {
          200: { type: 'object', properties: { traces: { type: 'array', items: traceSummary } }, required: ['traces'] },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const traces = await runQuery<unknown>(store, traceSearchSql(store.database, toTraceSearch(req.query, Date.now())));
      return { traces };
    },
  );
  done();
};
