/**
 * GET /api/v1/logs and GET /api/v1/logs/histogram: the routes' schemas (query/routes/logs.ts serves them;
 * query/contract.ts types them).
 */
import { ATTRIBUTES_DESCRIPTION, attributes, errorResponses, iso, limitParam, nanos, repeatable, timeRangeParams } from './common.ts';

/** Buckets a histogram aims for when no bucket width is given. */
export const TARGET_BUCKETS = 120;

/** The filters both log routes take. */
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

export const logSearchQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...filterParams,
    limit: limitParam(1000, 100, 'records'),
    cursor: { type: 'string', maxLength: 128, description: 'The `nextCursor` of the previous page.' },
  },
} as const;

const logRecord = {
  type: 'object',
  additionalProperties: false,
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
    resource: {
      type: 'object',
      additionalProperties: false,
      properties: { attributes, schemaUrl: { type: 'string' } },
      required: ['attributes', 'schemaUrl'],
    },
    scope: {
      type: 'object',
      additionalProperties: false,
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

export const logSearchResponse = {
  type: 'object',
  additionalProperties: false,
  properties: {
    logs: { type: 'array', items: logRecord },
    nextCursor: { type: 'string', description: 'Present when more records match.' },
  },
  required: ['logs'],
} as const;

export const logSearchSchema = {
  tags: ['logs'],
  summary: 'Search log records; newest first.',
  description: `Pass \`nextCursor\` back as \`cursor\` (with the same filters) for the next page. ${ATTRIBUTES_DESCRIPTION}`,
  querystring: logSearchQuerystring,
  response: { 200: logSearchResponse, ...errorResponses },
} as const;

export const logHistogramQuerystring = {
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
} as const;

export const logHistogramResponse = {
  type: 'object',
  additionalProperties: false,
  properties: {
    bucketMs: { type: 'integer', description: 'Bucket width in milliseconds; buckets are aligned to the epoch.' },
    buckets: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
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
} as const;

export const logHistogramSchema = {
  tags: ['logs'],
  summary: 'Log record counts per time bucket, every bucket of the range present.',
  querystring: logHistogramQuerystring,
  response: { 200: logHistogramResponse, ...errorResponses },
} as const;
