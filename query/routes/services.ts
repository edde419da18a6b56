/**
 * GET /api/v1/services: per service, request rate, error rate and latency quantiles from spans (RED).
 */
import { defineFeature } from '../features.ts';
import type { FastifyPluginCallback } from 'fastify';
import type { Store } from '#storage/client.ts';
import type { ServiceStats, ServicesQuery, ServicesResponse } from '../contract.ts';
import { resolveRange } from '../params/time.ts';
import { runQuery } from '../run.ts';
import { servicesSchema } from '../schemas/services.ts';
import { type ServicesQuery as ServicesSqlQuery, servicesSql } from '../sql/services.ts';

export interface ServiceRouteOptions {
  store: Store;
}

export function toServicesQuery(q: ServicesQuery, nowMs: number): ServicesSqlQuery {
  return { range: resolveRange(q, nowMs), service: q.service, limit: q.limit };
}

interface ServicesRoute {
  Querystring: ServicesQuery;
  Reply: { 200: ServicesResponse };
}

export const serviceRoutes: FastifyPluginCallback<ServiceRouteOptions> = (app, { store }, done) => {
  app.get<ServicesRoute>('/services', { schema: servicesSchema }, async (req) => {
    // The SQL selects exactly the columns of the schema's service stats.
    const services = await runQuery<ServiceStats>(store, servicesSql(store.database, toServicesQuery(req.query, Date.now())));
    return { services };
  });
  done();
};

/** Registered by the query API (../features.ts). */
export const feature = defineFeature({ name: 'services', needs: ['store'], plugin: serviceRoutes });
