/**
 * GET /api/v1/logs: log records, newest first, paged with a cursor.
 * GET /api/v1/logs/histogram: record counts per time bucket, optionally per severity class.
 */
import { defineFeature } from '../features.ts';
import type { FastifyPluginCallback } from 'fastify';
import { AppError } from '#core/errors.ts';
import type { Store } from '#storage/client.ts';
import type { LogBucket, LogHistogramQuery, LogHistogramResponse, LogRecord, LogSearchQuery, LogSearchResponse } from '../contract.ts';
import { parseAttrFilters, parseSeverity, parseTraceId } from '../params/filters.ts';
import { resolveRange, resolveStepMs } from '../params/time.ts';
import { runQuery, trimToLimit } from '../run.ts';
import { TARGET_BUCKETS, logHistogramSchema, logSearchSchema } from '../schemas/logs.ts';
import { type LogCursor, type LogFilters, type LogSearch, logHistogramSql, logSearchSql } from '../sql/logs.ts';

export { TARGET_BUCKETS };

export interface LogRouteOptions {
  store: Store;
}

/** The filters both log routes take. */
export type LogFilterParams = Pick<LogSearchQuery & LogHistogramQuery, 'start' | 'end' | 'service' | 'severity' | 'traceId' | 'attr' | 'q'>;

interface LogSearchRoute {
  Querystring: LogSearchQuery;
  Reply: { 200: LogSearchResponse };
}

interface LogHistogramRoute {
  Querystring: LogHistogramQuery;
  Reply: { 200: LogHistogramResponse };
}

export function toLogFilters(q: LogFilterParams, nowMs: number): LogFilters {
  return {
    range: resolveRange(q, nowMs),
    service: q.service,
    minSeverity: parseSeverity(q.severity),
    traceId: q.traceId === undefined ? undefined : parseTraceId(q.traceId, 'traceId', 'querystring'),
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
  done();
};

/** Registered by the query API (../features.ts). */
export const feature = defineFeature({ name: 'logs', needs: ['store'], plugin: logRoutes });
