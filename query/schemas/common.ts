/**
 * JSON schema fragments shared by the routes' schemas (query/schemas/*.ts). Those schemas validate input
 * (fastify/ajv), drive response serialization (fast-json-stringify writes only the declared properties, fast),
 * become the OpenAPI document, and are the source of the API's TypeScript types (query/contract.ts).
 *
 * Rules that keep the derived types exact: every fragment is a literal `as const` (helpers return one), and a
 * response object lists its properties with `additionalProperties: false` (the serializer drops anything else
 * anyway; without it the type would carry an index signature of `unknown`). No runtime imports: the UI
 * type-checks these modules.
 */

export const ATTRIBUTES_DESCRIPTION =
  'Attribute values are the stored strings: the OpenTelemetry Collector ClickHouse exporter string form of each AnyValue ' +
  '(strings as is, booleans "true"/"false", integers and doubles in decimal, bytes base64, arrays and maps as JSON).';

export const attributes = {
  type: 'object',
  additionalProperties: { type: 'string' },
  description: ATTRIBUTES_DESCRIPTION,
} as const;

export const nanos = (description: string) => ({ type: 'string', pattern: '^-?[0-9]+$', description }) as const;

export const iso = (description: string) => ({ type: 'string', description: `${description} (RFC 3339, nanosecond precision).` }) as const;

export const TIME_DESCRIPTION = 'RFC 3339 time (2023-11-14T22:13:20.123456789Z), epoch milliseconds, or now-<duration> (now-15m).';

/** `start`/`end` query parameters. */
export const timeRangeParams = {
  start: { type: 'string', maxLength: 64, description: `Range start; default: an hour before end. ${TIME_DESCRIPTION}` },
  end: { type: 'string', maxLength: 64, description: `Range end (inclusive); default: now. ${TIME_DESCRIPTION}` },
} as const;

export const limitParam = (max: number, dflt: number, what: string) =>
  ({ type: 'integer', minimum: 1, maximum: max, default: dflt, description: `Most ${what} returned (≤ ${max}).` }) as const;

export const repeatable = (description: string) =>
  ({ type: 'array', items: { type: 'string', maxLength: 8192 }, maxItems: 20, description: `${description} Repeatable.` }) as const;

/** The one error shape of the API (#core/errors.ts writes it). */
export const errorBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      additionalProperties: false,
      properties: {
        code: { type: 'string', description: 'Stable error code: BAD_REQUEST, UNAUTHORIZED, NOT_FOUND, OVERLOADED, UNAVAILABLE, …' },
        message: { type: 'string', description: 'What was wrong, for 4xx; a generic text for 5xx.' },
      },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;

/** A query string without parameters (unknown ones are refused). */
export const noParams = { type: 'object', additionalProperties: false, properties: {} } as const;

/** Error responses every API route can give. */
export const errorResponses = {
  400: { description: 'Invalid parameter; the message names it.', ...errorBody },
  401: { description: 'Authentication is on and the bearer token is missing or wrong.', ...errorBody },
  503: { description: 'The query timed out or the store is unavailable.', ...errorBody },
} as const;

export const span = {
  type: 'object',
  additionalProperties: false,
  properties: {
    traceId: { type: 'string', description: '32 lowercase hex characters.' },
    spanId: { type: 'string', description: '16 lowercase hex characters.' },
    parentSpanId: { type: 'string', description: 'Empty for a root span.' },
    traceState: { type: 'string' },
    name: { type: 'string' },
    kind: { type: 'string', description: 'Unspecified | Internal | Server | Client | Producer | Consumer' },
    serviceName: { type: 'string' },
    startTimeUnixNano: nanos('Start, nanoseconds since the epoch, as a decimal string.'),
    startTime: iso('Start'),
    durationNano: nanos('Duration in nanoseconds, as a decimal string.'),
    status: {
      type: 'object',
      additionalProperties: false,
      properties: { code: { type: 'string', description: 'Unset | Ok | Error' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
    attributes,
    resource: { type: 'object', additionalProperties: false, properties: { attributes }, required: ['attributes'] },
    scope: {
      type: 'object',
      additionalProperties: false,
      properties: { name: { type: 'string' }, version: { type: 'string' } },
      required: ['name', 'version'],
    },
    events: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: { timeUnixNano: nanos('Event time, nanoseconds since the epoch.'), name: { type: 'string' }, attributes },
        required: ['timeUnixNano', 'name', 'attributes'],
      },
    },
    links: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: { traceId: { type: 'string' }, spanId: { type: 'string' }, traceState: { type: 'string' }, attributes },
        required: ['traceId', 'spanId', 'traceState', 'attributes'],
      },
    },
  },
  required: [
    'traceId',
    'spanId',
    'parentSpanId',
    'traceState',
    'name',
    'kind',
    'serviceName',
    'startTimeUnixNano',
    'startTime',
    'durationNano',
    'status',
    'attributes',
    'resource',
    'scope',
    'events',
    'links',
  ],
} as const;
