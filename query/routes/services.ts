/**
 * GET /api/v1/services: per service, request rate, error rate and latency quantiles from spans (RED).
 * GET /api/v1/services/series: the same per time bucket (the UI's sparklines and RED charts).
 * GET /api/v1/services/operations: the same per operation of one service.
 */
import { defineFeature } from '../features.ts';
import type { FastifyPluginCallback } from 'fastify';
import type { Store } from '#storage/client.ts';
import type {
  OperationStats,
  OperationsQuery,
  OperationsResponse,
  ServiceSeriesQuery,
  ServiceSeriesResponse,
  ServiceStats,
  ServicesQuery,
  ServicesResponse,
} from '../contract.ts';
import { NS_PER_MS, resolveRange, resolveStepMs } from '../params/time.ts';
import { runQuery } from '../run.ts';
import { operationsSchema, serviceSeriesSchema, servicesSchema } from '../schemas/services.ts';
import {
  type ServiceFilter,
  type ServiceSeriesRow,
  type ServicesQuery as ServicesSqlQuery,
  operationsSql,
  serviceSeriesSql,
  servicesSql,
} from '../sql/services.ts';

export interface ServiceRouteOptions {
  store: Store;
}

function toFilter(q: { start?: string; end?: string; namespace?: string; environment?: string; service?: string }, nowMs: number): ServiceFilter {
  return { range: resolveRange(q, nowMs), service: q.service, namespace: q.namespace, environment: q.environment };
}

export function toServicesQuery(q: ServicesQuery, nowMs: number): ServicesSqlQuery {
  return { ...toFilter(q, nowMs), limit: q.limit };
}

/** Bucket starts (epoch ms) of every step-aligned bucket the range touches, as the SQL aligns them. */
export function bucketStarts(startNs: bigint, endNs: bigint, stepMs: number): number[] {
  const step = BigInt(stepMs) * NS_PER_MS;
  const out: number[] = [];
  for (let b = startNs / step; b <= endNs / step; b++) out.push(Number(b) * stepMs);
  return out;
}

/** Rows per (service, bucket) → one aligned series per service, zero (counts) or null (quantiles) where empty. */
export function toSeries(rows: readonly ServiceSeriesRow[], timestamps: readonly number[]): ServiceSeriesResponse['services'] {
  const index = new Map(timestamps.map((t, i) => [t, i]));
  const byService = new Map<string, ServiceSeriesResponse['services'][number]>();
  for (const r of rows) {
    let s = byService.get(r.serviceName);
    if (!s) {
      const n = timestamps.length;
      s = { serviceName: r.serviceName, requests: Array<number>(n).fill(0), errors: Array<number>(n).fill(0), p50: Array<null>(n).fill(null), p95: Array<null>(n).fill(null), p99: Array<null>(n).fill(null) };
      byService.set(r.serviceName, s);
    }
    const i = index.get(r.t);
    if (i === undefined) continue;
    s.requests[i] = r.requests;
    s.errors[i] = r.errors;
    if (r.requests > 0) {
      // A bucket with no request of the chosen measure has NaN quantiles; it stays null.
      [s.p50[i], s.p95[i], s.p99[i]] = r.q.map((v) => (Number.isFinite(v) ? v : null)) as [number | null, number | null, number | null];
    }
  }
  return [...byService.values()];
}

/** Sparklines need few points; a RED chart asks for more. */
const DEFAULT_POINTS = 60;

interface ServicesRoute {
  Querystring: ServicesQuery;
  Reply: { 200: ServicesResponse };
}
interface SeriesRoute {
  Querystring: ServiceSeriesQuery;
  Reply: { 200: ServiceSeriesResponse };
}
interface OperationsRoute {
  Querystring: OperationsQuery;
  Reply: { 200: OperationsResponse };
}

export const serviceRoutes: FastifyPluginCallback<ServiceRouteOptions> = (app, { store }, done) => {
  app.get<ServicesRoute>('/services', { schema: servicesSchema }, async (req) => {
    // The SQL selects exactly the columns of the schema's service stats.
    const services = await runQuery<ServiceStats>(store, servicesSql(store.database, toServicesQuery(req.query, Date.now())));
    return { services };
  });

  app.get<SeriesRoute>('/services/series', { schema: serviceSeriesSchema }, async (req) => {
    const f = toFilter(req.query, Date.now());
    const stepMs = resolveStepMs('step', req.query.step, f.range, req.query.points ?? DEFAULT_POINTS);
    const rows = await runQuery<ServiceSeriesRow>(store, serviceSeriesSql(store.database, { ...f, stepMs, limit: req.query.limit }));
    const timestamps = bucketStarts(f.range.startNs, f.range.endNs, stepMs);
    return { stepMs, timestamps, services: toSeries(rows, timestamps) };
  });

  app.get<OperationsRoute>('/services/operations', { schema: operationsSchema }, async (req) => {
    const f = toFilter(req.query, Date.now());
    const operations = await runQuery<OperationStats>(store, operationsSql(store.database, { ...f, service: req.query.service, limit: req.query.limit }));
    return { operations };
  });
  done();
};

/** Registered by the query API (../features.ts). */
export const feature = defineFeature({ name: 'services', needs: ['store'], plugin: serviceRoutes });
