/** GET /api/v1/services: the route's schema (query/routes/services.ts serves it; query/contract.ts types it). */
import { errorResponses, limitParam, timeRangeParams } from './common.ts';

export const servicesQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...timeRangeParams,
    service: { type: 'string', maxLength: 1024, description: 'Only this service.' },
    limit: limitParam(1000, 100, 'services'),
  },
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
    requests: { type: 'integer', description: 'Requests in the range.' },
    requestRate: { type: 'number', description: 'Requests per second over the range.' },
    errors: { type: 'integer', description: 'Requests with status Error.' },
    errorRate: { type: 'number', description: 'errors / requests (0 to 1).' },
    latencyNano: {
      type: 'object',
      additionalProperties: false,
      description: 'Request duration quantiles in nanoseconds (interpolated; estimated beyond 8192 requests).',
      properties: { p50: { type: 'number' }, p95: { type: 'number' }, p99: { type: 'number' } },
      required: ['p50', 'p95', 'p99'],
    },
  },
  required: ['serviceName', 'source', 'requests', 'requestRate', 'errors', 'errorRate', 'latencyNano'],
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
