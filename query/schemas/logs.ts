/**
 * GET /api/v1/logs, /logs/histogram, /logs/facets and /logs/context: the routes' schemas (query/routes/logs.ts
 * serves them; query/contract.ts types them).
 */
import { ATTRIBUTES_DESCRIPTION, attributes, errorResponses, iso, limitParam, nanos, repeatable, timeRangeParams } from './common.ts';

/** Buckets a histogram aims for when no bucket width is given. */
export const TARGET_BUCKETS = 120;

/** The filters of every log route that searches (and of the live tail, GET /api/v1/logs/tail). */
export const logFilterParams = {
  ...timeRangeParams,
  service: { type: 'string', maxLength: 1024, description: 'ServiceName.' },
  severity: {
    type: 'string',
    maxLength: 16,
    description: 'Minimum severity: a SeverityNumber 1-24 or TRACE, DEBUG, INFO, WARN, ERROR, FATAL (case-insensitive).',
  },
  traceId: { type: 'string', pattern: '^[0-9a-fA-F]{32}$', description: 'Records of this trace only.' },
  spanId: { type: 'string', pattern: '^[0-9a-fA-F]{16}$', description: 'Records of this span only (16 hexadecimal characters).' },
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
    ...logFilterParams,
    limit: limitParam(1000, 100, 'records'),
    cursor: { type: 'string', maxLength: 128, description: 'The `nextCursor` of the previous page.' },
  },
} as const;

export const logRecord = {
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
    ...logFilterParams,
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

/** Fields the facet sidebar counts: two resource attributes, the service and the severity class. */
export const FACET_FIELDS = ['k8s.namespace.name', 'k8s.pod.name', 'service.name', 'severity'] as const;

export const logFacetsQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...logFilterParams,
    limit: limitParam(100, 10, 'values per field'),
  },
} as const;

export const logFacetsResponse = {
  type: 'object',
  additionalProperties: false,
  properties: {
    total: { type: 'integer', description: 'Records matching the query.' },
    facets: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          field: { type: 'string', enum: FACET_FIELDS },
          values: {
            type: 'array',
            description: 'The most frequent values, most records first (ties by value). An empty value counts records without the field.',
            items: {
              type: 'object',
              additionalProperties: false,
              properties: { value: { type: 'string' }, count: { type: 'integer' } },
              required: ['value', 'count'],
            },
          },
          distinct: { type: 'integer', description: 'Distinct values of the field among the matching records (values beyond `limit` are not listed).' },
        },
        required: ['field', 'values', 'distinct'],
      },
    },
  },
  required: ['total', 'facets'],
} as const;

export const logFacetsSchema = {
  tags: ['logs'],
  summary: 'Top values and counts of k8s.namespace.name, k8s.pod.name, service.name and the severity class for a search.',
  description:
    'One scan for all four fields. Severity values are classes (TRACE, DEBUG, INFO, WARN, ERROR, FATAL, UNSPECIFIED); pass one back as `severity` for that class and above.',
  querystring: logFacetsQuerystring,
  response: { 200: logFacetsResponse, ...errorResponses },
} as const;

/** Most lines on either side of a record the context route returns. */
export const MAX_CONTEXT = 500;

export const logContextQuerystring = {
  type: 'object',
  additionalProperties: false,
  required: ['time'],
  properties: {
    time: nanos('The record\'s `timeUnixNano`.'),
    pod: { type: 'string', maxLength: 253, description: 'Its `k8s.pod.name` resource attribute; with `container` (and `namespace`), the source of the lines.' },
    container: { type: 'string', maxLength: 253, description: 'Its `k8s.container.name` resource attribute.' },
    namespace: { type: 'string', maxLength: 253, description: 'Its `k8s.namespace.name` resource attribute.' },
    service: { type: 'string', maxLength: 1024, description: 'Its ServiceName: the source when the record has no `k8s.pod.name`.' },
    before: { type: 'integer', minimum: 0, maximum: MAX_CONTEXT, default: 50, description: `Records before it (≤ ${MAX_CONTEXT}).` },
    after: { type: 'integer', minimum: 0, maximum: MAX_CONTEXT, default: 50, description: `Records after it (≤ ${MAX_CONTEXT}).` },
    window: {
      type: 'string',
      maxLength: 32,
      description: 'How far from the record to look on each side: a duration (10m, 1h) or seconds. Default 1h, at most 1d.',
    },
  },
} as const;

export const logContextResponse = {
  type: 'object',
  additionalProperties: false,
  properties: {
    logs: { type: 'array', items: logRecord, description: 'Oldest first: the records before, those at the record\'s own timestamp, then those after.' },
    at: {
      type: 'object',
      additionalProperties: false,
      description: 'Where the records with the anchor\'s timestamp are in `logs` (the record itself is one of them).',
      properties: { index: { type: 'integer' }, count: { type: 'integer' } },
      required: ['index', 'count'],
    },
    moreBefore: { type: 'boolean', description: 'More records of the source precede the first one within the window.' },
    moreAfter: { type: 'boolean', description: 'More records of the source follow the last one within the window.' },
    source: { type: 'string', description: 'The source the lines were taken from, as `pod/container` or `service`.' },
  },
  required: ['logs', 'at', 'moreBefore', 'moreAfter', 'source'],
} as const;

export const logContextSchema = {
  tags: ['logs'],
  summary: 'Surrounding lines: the records before and after one record from the same pod and container (or service).',
  description:
    'Give the record\'s `timeUnixNano` and its source: `pod` with `container` (and `namespace`) when the record carries them, otherwise `service`. ' +
    'Records are ordered by timestamp, then by a stable hash of the record; every record sharing the anchor\'s timestamp is returned (at most 1000).',
  querystring: logContextQuerystring,
  response: { 200: logContextResponse, ...errorResponses },
} as const;
