/**
 * GET /api/v1/logs: log records, newest first, paged with a cursor.
 * GET /api/v1/logs/histogram: record counts per time bucket, optionally per severity class.
 */
import type { FastifyPluginCallback } from 'fastify';
import { AppError } from '#core/errors.ts';
import type { Store } from '#storage/client.ts';
import { parseAttrFilters, parseSeverity, parseTraceId } from '../params/filters.ts';
import { resolveRange, resolveStepMs } from '../params/time.ts';
import { runQuery, trimToLimit } from '../run.ts';
import { ATTRIBUTES_DESCRIPTION, attributes, errorResponses, iso, limitParam, nanos, repeatable, timeRangeParams } from '../schemas.ts';
import { type LogCursor, type LogFilters, type LogSearch, logHistogramSql, logSearchSql } from '../sql/logs.ts';

export interface LogRouteOptions {
  store: Store;
}

export interface LogFilterParams {
  start?: string;
  end?: string;
  service?: string;
  severity?: string;
  traceId?: string;
  attr?: string[];
  q?: string;
}

export interface LogSearchParams extends LogFilterParams {
  limit: number;
  cursor?: string;
}

export interface LogHistogramParams extends LogFilterParams {
  bucket?: string;
  by?: 'severity';
}

/** Buckets a histogram aims for when no bucket width is given. */
export const TARGET_BUCKETS = 120;

const filterParams = {
  ...timeRangeParams,
  service: { type: 'string', maxLength: 1024, description: 'ServiceName.' },
  severity: {
    type: 'string',
    maxLength: 16,
    description: 'Minimum severity: a SeverityNumber 1-24 or TRACE, DEBUG, INFO, WARN, ERROR, FATAL (case-insensitive).',
  },
  traceId: { type: 'string', pattern: '^[0-9a-fA-F]{32}$', description: 'Records of this trace only.' },
  attr: repeatable('key=value: the record or its resource has this attribute value.'),
  q: {
    type: 'string',
    maxLength: 1000,
    description:
      'Full text: each word must appear as a whole word in the body, and the text as a whole must appear in it. ' +
      'Case-insensitive for ASCII letters (as the body index, built on lower(Body)).',
  },
} as const;

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

export function toLogSearch(q: LogSearchParams, nowMs: number): LogSearch {
  return { ...toLogFilters(q, nowMs), limit: q.limit, cursor: q.cursor === undefined ? undefined : decodeCursor(q.cursor) };
}

const logRecord = {
  type: 'object',
  properties: {
    timeUnixNano: nanos('Record time, nanoseconds since the epoch.'),
    time: iso('Record time'),
    traceId: { type: 'string' },
    spanId: { type: 'string' },
    traceFlags: { type: 'integer' },
    severityText: { type: 'string' },
    severityNumber: { type: 'integer' },
    serviceName: { type: 'string' },
    body: { type: 'string', description: 'The body in its stored string form.' },
    eventName: { type: 'string' },
    attributes,
    resource: { type: 'object', properties: { attributes, schemaUrl: { type: 'string' } }, required: ['attributes', 'schemaUrl'] },
    scope: {
      type: 'object',
      properties: { name: { type: 'string' }, version: { type: 'string' }, attributes, schemaUrl: { type: 'string' } },
      required: ['name', 'version', 'attributes', 'schemaUrl'],
    },
  },
  required: [
    'timeUnixNano',
    'time',
    'traceId',
    'spanId',
    'traceFlags',
    'severityText',
    'severityNumber',
    'serviceName',
    'body',
    'eventName',
    'attributes',
    'resource',
    'scope',
  ],
} as const;

interface LogRow {
  timeUnixNano: string;
  rowHash: string;
}

export const logRoutes: FastifyPluginCallback<LogRouteOptions> = (app, { store }, done) => {
  app.get<{ Querystring: LogSearchParams }>(
    '/logs',
    {
      schema: {
        tags: ['logs'],
        summary: 'Search log records; newest first.',
        description: `Pass \`nextCursor\` back as \`cursor\` (with the same filters) for the next page. ${ATTRIBUTES_DESCRIPTION}`,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...filterParams,
            limit: limitParam(1000, 100, 'records'),
            cursor: { type: 'string', maxLength: 128, description: 'The `nextCursor` of the previous page.' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              logs: { type: 'array', items: logRecord },
              nextCursor: { type: 'string', description: 'Present when more records match.' },
            },
            required: ['logs'],
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const s = toLogSearch(req.query, Date.now());
      const logs = await runQuery<LogRow>(store, logSearchSql(store.database, s));
      if (!trimToLimit(logs, s.limit)) return { logs };
      return { logs, nextCursor: encodeCursor(logs[logs.length - 1]!) };
    },
  );

  app.get<{ Querystring: LogHistogramParams }>(
    '/logs/histogram',
    {
      schema: {
        tags: ['logs'],
        summary: 'Log record counts per time bucket, every bucket of the range present.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...filterParams,
            bucket: {
              type: 'string',
              maxLength: 32,
              description: `Bucket width: a duration (10s, 5m, 1h) or seconds. Default: chosen for about ${TARGET_BUCKETS} buckets. At most 11000 buckets.`,
            },
            by: { type: 'string', enum: ['severity'], description: 'Also count per severity class (TRACE … FATAL, UNSPECIFIED).' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              bucketMs: { type: 'integer', description: 'Bucket width in milliseconds; buckets are aligned to the epoch.' },
              buckets: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    t: { type: 'integer', description: 'Bucket start, epoch milliseconds.' },
                    count: { type: 'integer' },
                    bySeverity: { type: 'object', additionalProperties: { type: 'integer' }, description: 'With by=severity.' },
                  },
                  required: ['t', 'count'],
                },
              },
            },
            required: ['bucketMs', 'buckets'],
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const f = toLogFilters(req.query, Date.now());
      const bucketMs = resolveStepMs('bucket', req.query.bucket, f.range, TARGET_BUCKETS);
      const buckets = await runQuery<unknown>(store, logHistogramSql(store.database, f, bucketMs, req.query.by === 'severity'));
      return { bucketMs, buckets };
    },
  );
  done();
};
