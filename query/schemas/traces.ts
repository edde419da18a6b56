/**
 * GET /api/v1/traces/{traceId} and GET /api/v1/traces: the routes' schemas (query/routes/traces.ts serves them;
 * query/contract.ts types them).
 */
import { ATTRIBUTES_DESCRIPTION, attributes, errorBody, errorResponses, iso, limitParam, nanos, repeatable, span, timeRangeParams } from './common.ts';

export const traceParams = {
  type: 'object',
  properties: { traceId: { type: 'string', pattern: '^[0-9a-fA-F]{32}$', description: '32 hex characters.' } },
  required: ['traceId'],
} as const;

export const traceQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: limitParam(50_000, 10_000, 'spans'),
    shape: {
      type: 'string',
      enum: ['full', 'compact'],
      default: 'full',
      description:
        '`full` (default): every span with all its fields, resource and scope included. `compact`: resources and scopes ' +
        'listed once and referenced by index, times as numbers relative to the trace start, empty fields left out ' +
        '(about 40% of the bytes for a large trace, and faster to produce and to parse). The web UI reads `compact`.',
    },
  },
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

/**
 * Nanoseconds as a JSON integer while exact (≤ 2^53 − 1, about 104 days), else as a decimal string: a reader
 * converts with `Number(x)` to draw, `BigInt(x)` for exact arithmetic.
 */
const nanosNumber = (description: string) =>
  ({
    type: ['integer', 'string'],
    pattern: '^[0-9]+$',
    description: `${description} An integer, or a decimal string when above 2^53 − 1.`,
  }) as const;

const compactSpan = {
  type: 'object',
  additionalProperties: false,
  properties: {
    spanId: span.properties.spanId,
    parentSpanId: span.properties.parentSpanId,
    name: span.properties.name,
    kind: span.properties.kind,
    start: nanosNumber('Start, nanoseconds after the trace\'s `startTimeUnixNano`.'),
    duration: nanosNumber('Duration in nanoseconds.'),
    resource: { type: 'integer', description: 'Index into `resources`.' },
    scope: { type: 'integer', description: 'Index into `scopes`.' },
    attributes,
    status: { ...span.properties.status, description: 'Left out when the code is Unset and there is no message.' },
    traceState: { type: 'string', description: 'Left out when empty.' },
    events: { ...span.properties.events, description: 'Left out when the span has none.' },
    links: { ...span.properties.links, description: 'Left out when the span has none.' },
  },
  required: ['spanId', 'parentSpanId', 'name', 'kind', 'start', 'duration', 'resource', 'scope', 'attributes'],
} as const;

export const compactTraceResponse = {
  type: 'object',
  additionalProperties: false,
  description: 'The answer with `shape=compact`.',
  properties: {
    traceId: { type: 'string' },
    startTimeUnixNano: nanos('Start of the earliest span returned, nanoseconds since the epoch: spans\' `start` counts from here.'),
    resources: {
      type: 'array',
      description: 'Each distinct resource of the returned spans once (service name and resource attributes).',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: { serviceName: span.properties.serviceName, attributes },
        required: ['serviceName', 'attributes'],
      },
    },
    scopes: { type: 'array', description: 'Each distinct instrumentation scope of the returned spans once.', items: span.properties.scope },
    spans: { type: 'array', items: compactSpan, description: 'In start order.' },
    truncated: traceResponse.properties.truncated,
  },
  required: ['traceId', 'startTimeUnixNano', 'resources', 'scopes', 'spans', 'truncated'],
} as const;

export const traceSchema = {
  tags: ['traces'],
  summary: 'Every span of one trace, in start order.',
  params: traceParams,
  querystring: traceQuerystring,
  response: {
    200: { description: 'The spans; with `shape=compact`, in the compact form.', anyOf: [traceResponse, compactTraceResponse] },
    404: { ...errorBody, description: 'No span of this trace is stored.' },
    ...errorResponses,
  },
} as const;

const DURATION_DESCRIPTION = 'Nanoseconds, or a number with a unit: ns, us, ms, s, m, h (250ms, 1.5s, 1m30s).';

export const SPAN_STATUSES = ['Unset', 'Ok', 'Error'] as const;

/** The filters the search and the scatter share. */
const traceFilterParams = {
  ...timeRangeParams,
  service: { type: 'string', maxLength: 1024, description: 'ServiceName of the matching span.' },
  operation: { type: 'string', maxLength: 1024, description: 'SpanName of the matching span.' },
  minDuration: { type: 'string', maxLength: 64, description: `Minimum span duration. ${DURATION_DESCRIPTION}` },
  maxDuration: { type: 'string', maxLength: 64, description: `Maximum span duration. ${DURATION_DESCRIPTION}` },
  status: { type: 'string', enum: SPAN_STATUSES, description: 'Span status code.' },
  attr: repeatable('key=value: the span or its resource has this attribute value.'),
} as const;

export const traceSearchQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...traceFilterParams,
    limit: limitParam(1000, 100, 'traces'),
    cursor: { type: 'string', maxLength: 128, description: 'The `nextCursor` of the previous page.' },
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
  properties: {
    traces: { type: 'array', items: traceSummary },
    nextCursor: { type: 'string', description: 'Present when more traces match: pass it back as `cursor` with the same filters.' },
  },
  required: ['traces'],
} as const;

export const traceSearchSchema = {
  tags: ['traces'],
  summary: 'Search traces with a span matching every filter; newest first, as summaries, paged.',
  description:
    'A trace matches when one of its spans in the time range meets all filters (service, operation, duration, status, ' +
    'attributes); traces are ordered by their earliest matching span, newest first. Summaries cover all spans of the ' +
    'trace. Pass `nextCursor` back as `cursor` (with the same filters) for the next page. Attribute filters compare ' +
    'the stored string form: ' +
    ATTRIBUTES_DESCRIPTION,
  querystring: traceSearchQuerystring,
  response: { 200: traceSearchResponse, ...errorResponses },
} as const;

export const traceScatterQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...traceFilterParams,
    limit: limitParam(10_000, 2000, 'points'),
  },
} as const;

const scatterPoint = {
  type: 'object',
  additionalProperties: false,
  properties: {
    startTimeUnixNano: nanos('Span start, nanoseconds since the epoch.'),
    durationNano: nanos('Span duration, nanoseconds.'),
    status: { type: 'string', description: 'Unset | Ok | Error' },
    traceId: { type: 'string' },
    spanId: { type: 'string' },
    serviceName: { type: 'string' },
    name: { type: 'string' },
  },
  required: ['startTimeUnixNano', 'durationNano', 'status', 'traceId', 'spanId', 'serviceName', 'name'],
} as const;

export const traceScatterResponse = {
  type: 'object',
  additionalProperties: false,
  properties: {
    points: { type: 'array', items: scatterPoint },
    total: { type: 'integer', description: 'Spans matching the filters in all; more than the points when sampled.' },
    sampled: { type: 'boolean', description: 'More spans matched than `limit`: the points are a uniform sample of them.' },
  },
  required: ['points', 'total', 'sampled'],
} as const;

export const traceScatterSchema = {
  tags: ['traces'],
  summary: 'Duration over time: the spans matching the search filters, as points.',
  description:
    'The spans matching every filter (as in the trace search); without `service` or `operation`, root spans only, ' +
    'one point per trace. At most `limit` points: when more match, a uniform sample (stable across calls), with ' +
    '`total` and `sampled` saying so. ' +
    ATTRIBUTES_DESCRIPTION,
  querystring: traceScatterQuerystring,
  response: { 200: traceScatterResponse, ...errorResponses },
} as const;
