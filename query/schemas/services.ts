/**
 * GET /api/v1/services, /api/v1/services/series and /api/v1/services/operations: the routes' schemas
 * (query/routes/services.ts serves them; query/contract.ts types them).
 */
import { errorResponses, limitParam, timeRangeParams } from './common.ts';

/** Filters every services route takes: which spans count. */
const filterParams = {
  ...timeRangeParams,
  namespace: { type: 'string', maxLength: 1024, description: 'Only spans whose resource has this k8s.namespace.name.' },
  environment: {
    type: 'string',
    maxLength: 1024,
    description: 'Only spans whose resource has this deployment.environment.name (or, without it, deployment.environment).',
  },
} as const;

export const servicesQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...filterParams,
    service: { type: 'string', maxLength: 1024, description: 'Only this service.' },
    limit: limitParam(1000, 100, 'services'),
  },
} as const;

const latencyNano = {
  type: 'object',
  additionalProperties: false,
  description: 'Request duration quantiles in nanoseconds (interpolated; estimated beyond 8192 requests).',
  properties: { p50: { type: 'number' }, p95: { type: 'number' }, p99: { type: 'number' } },
  required: ['p50', 'p95', 'p99'],
} as const;

const red = {
  requests: { type: 'integer', description: 'Requests in the range.' },
  requestRate: { type: 'number', description: 'Requests per second over the range.' },
  errors: { type: 'integer', description: 'Requests with status Error.' },
  errorRate: { type: 'number', description: 'errors / requests (0 to 1).' },
  latencyNano,
} as const;

const serviceStats = {
  type: 'object',
  additionalProperties: false,
  properties: {
    serviceName: { type: 'string' },
    source: {
      type: 'string',
      enum: ['entry', 'root'],
      description: 'entry: measured on Server and Consumer spans; root: the service has neither, measured on its root spans.',
    },
    ...red,
    namespaces: {
      type: 'array',
      items: { type: 'string' },
      description: 'k8s.namespace.name values of its requests\' resources, sorted (at most 21; more are left out).',
    },
    environments: { type: 'array', items: { type: 'string' }, description: 'Deployment environments of its requests\' resources, sorted (at most 21).' },
  },
  required: ['serviceName', 'source', 'requests', 'requestRate', 'errors', 'errorRate', 'latencyNano', 'namespaces', 'environments'],
} as const;

export const servicesResponse = {
  type: 'object',
  additionalProperties: false,
  properties: { services: { type: 'array', items: serviceStats } },
  required: ['services'],
} as const;

export const servicesSchema = {
  tags: ['services'],
  summary: 'Per service: request rate, error rate and p50/p95/p99 latency, from spans.',
  querystring: servicesQuerystring,
  response: { 200: servicesResponse, ...errorResponses },
} as const;

export const serviceSeriesQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...filterParams,
    service: { type: 'string', maxLength: 1024, description: 'Only this service.' },
    step: {
      type: 'string',
      maxLength: 64,
      description: 'Bucket width: a duration (30s, 1m, 250ms) or seconds; default: a round width giving at most `points` buckets.',
    },
    points: { type: 'integer', minimum: 2, maximum: 1000, default: 60, description: 'Most buckets wanted when no step is given.' },
    limit: limitParam(1000, 100, 'services'),
  },
} as const;

const nullableSeries = (description: string) => ({ type: 'array', items: { type: ['number', 'null'] }, description }) as const;

const serviceSeries = {
  type: 'object',
  additionalProperties: false,
  properties: {
    serviceName: { type: 'string' },
    requests: { type: 'array', items: { type: 'integer' }, description: 'Requests per bucket, aligned with `timestamps` (0 where none).' },
    errors: { type: 'array', items: { type: 'integer' }, description: 'Error requests per bucket.' },
    p50: nullableSeries('Median request duration per bucket, nanoseconds; null where the bucket has no request.'),
    p95: nullableSeries('95th percentile per bucket, nanoseconds; null where none.'),
    p99: nullableSeries('99th percentile per bucket, nanoseconds; null where none.'),
  },
  required: ['serviceName', 'requests', 'errors', 'p50', 'p95', 'p99'],
} as const;

export const serviceSeriesResponse = {
  type: 'object',
  additionalProperties: false,
  properties: {
    stepMs: { type: 'integer', description: 'Bucket width in milliseconds.' },
    timestamps: {
      type: 'array',
      items: { type: 'number' },
      description: 'Start of every bucket the range touches (epoch ms, multiples of stepMs); every series has one value per bucket.',
    },
    services: { type: 'array', items: serviceSeries, description: 'Services with requests in the range, by name (measured as in /services).' },
  },
  required: ['stepMs', 'timestamps', 'services'],
} as const;

export const serviceSeriesSchema = {
  tags: ['services'],
  summary: 'Per service and time bucket: requests, errors and p50/p95/p99 latency (sparklines, RED charts).',
  querystring: serviceSeriesQuerystring,
  response: { 200: serviceSeriesResponse, ...errorResponses },
} as const;

export const operationsQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...filterParams,
    service: { type: 'string', maxLength: 1024, description: 'The service.' },
    limit: limitParam(1000, 20, 'operations'),
  },
  required: ['service'],
} as const;

const operationStats = {
  type: 'object',
  additionalProperties: false,
  properties: { operation: { type: 'string', description: 'Span name.' }, ...red },
  required: ['operation', 'requests', 'requestRate', 'errors', 'errorRate', 'latencyNano'],
} as const;

export const operationsResponse = {
  type: 'object',
  additionalProperties: false,
  properties: { operations: { type: 'array', items: operationStats, description: 'Busiest first.' } },
  required: ['operations'],
} as const;

export const operationsSchema = {
  tags: ['services'],
  summary: "Per operation (span name) of one service: the service's requests, error rate and latency quantiles.",
  querystring: operationsQuerystring,
  response: { 200: operationsResponse, ...errorResponses },
} as const;
