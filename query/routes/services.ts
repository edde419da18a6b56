/**
 * GET /api/v1/services: per service, request rate, error rate and latency quantiles from spans (RED).
 */
import type { FastifyPluginCallback } from 'fastify';
import type { Store } from '#storage/client.ts';
import { resolveRange } from '../params/time.ts';
import { runQuery } from '../run.ts';
import { errorResponses, limitParam, timeRangeParams } from '../schemas.ts';
import { type ServicesQuery, servicesSql } from '../sql/services.ts';

export interface ServiceRouteOptions {
  store: Store;
}

export interface ServicesParams {
  start?: string;
  end?: string;
  service?: string;
  limit: number;
}

export function toServicesQuery(q: ServicesParams, nowMs: number): ServicesQuery {
  return { range: resolveRange(q, nowMs), service: q.service, limit: q.limit };
}

const serviceStats = {
  type: 'object',
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
      description: 'Request duration quantiles in nanoseconds (interpolated; estimated beyond 8192 requests).',
      properties: { p50: { type: 'number' }, p95: { type: 'number' }, p99: { type: 'number' } },
      required: ['p50', 'p95', 'p99'],
    },
  },
  required: ['serviceName', 'source', 'requests', 'requestRate', 'errors', 'errorRate', 'latencyNano'],
} as const;

export const serviceRoutes: FastifyPluginCallback<ServiceRouteOptions> = (app, { store }, done) => {
  app.get<{ Querystring: ServicesParams }>(
    '/services',
    {
      schema: {
        tags: ['services'],
        summary: 'Per service: request rate, error rate and p50/p95/p99 latency, from spans.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...timeRangeParams,
            service: { type: 'string', maxLength: 1024, description: 'Only this service.' },
            limit: limitParam(1000, 100, 'services'),
          },
        },
        response: {
          200: { type: 'object', properties: { services: { type: 'array', items: serviceStats } }, required: ['services'] },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const services = await runQuery<unknown>(store, servicesSql(store.database, toServicesQuery(req.query, Date.now())));
      return { services };
    },
  );
  done();
};
