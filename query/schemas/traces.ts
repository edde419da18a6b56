/**
 * GET /api/v1/traces/{traceId} and GET /api/v1/traces: the routes' schemas (query/routes/traces.ts serves them;
 * query/contract.ts types them).
 */
import { ATTRIBUTES_DESCRIPTION, errorBody, errorResponses, iso, limitParam, nanos, repeatable, span, timeRangeParams } from './common.ts';

export const traceParams = {
  type: 'object',
  properties: { traceId: { type: 'string', pattern: '^[0-9a-fA-F]{32}$', description: '32 hex characters.' } },
  required: ['traceId'],
} as const;

export const traceQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: { limit: limitParam(50_000, 10_000, 'spans') },
} as const;

export const traceResponse = {
  type: 'object',
  additionalProperties: false,
  properties: {
    traceId: { type: 'string' },
    spans: { type: 'array', items: span },
    truncated: { type: 'boolean', description: 'The trace has more spans than `limit`.' },
  },
  required: ['traceId', 'spans', 'truncated'],
} as const;

export const traceSchema = {
  tags: ['traces'],
  summary: 'Every span of one trace, in start order.',
  params: traceParams,
  querystring: traceQuerystring,
  response: {
    200: traceResponse,
    404: { ...errorBody, description: 'No span of this trace is stored.' },
    ...errorResponses,
  },
} as const;

const DURATION_DESCRIPTION = 'Nanoseconds, or a number with a unit: ns, us, ms, s, m, h (250ms, 1.5s, 1m30s).';

export const SPAN_STATUSES = ['Unset', 'Ok', 'Error'] as const;

export const traceSearchQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...timeRangeParams,
    service: { type: 'string', maxLength: 1024, description: 'ServiceName of the matching span.' },
    operation: { type: 'string', maxLength: 1024, description: 'SpanName of the matching span.' },
    minDuration: { type: 'string', maxLength: 64, description: `Minimum span duration. ${DURATION_DESCRIPTION}` },
    maxDuration: { type: 'string', maxLength: 64, description: `Maximum span duration. ${DURATION_DESCRIPTION}` },
    status: { type: 'string', enum: SPAN_STATUSES, description: 'Span status code.' },
    attr: repeatable('key=value: the span or its resource has this attribute value.'),
    limit: limitParam(1000, 100, 'traces'),
  },
} as const;

const traceSummary = {
  type: 'object',
  additionalProperties: false,
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

export const traceSearchResponse = {
  type: 'object',
  additionalProperties: false,
  properties: { traces: { type: 'array', items: traceSummary } },
  required: ['traces'],
} as const;

export const traceSearchSchema = {
  tags: ['traces'],
  summary: 'Search traces with a span matching every filter; newest first, as summaries.',
  description:
    'A trace matches when one of its spans in the time range meets all filters (service, operation, duration, status, ' +
    'attributes). Summaries cover all spans of the trace. Attribute filters compare the stored string form: ' +
    ATTRIBUTES_DESCRIPTION,
  querystring: traceSearchQuerystring,
  response: { 200: traceSearchResponse, ...errorResponses },
} as const;
