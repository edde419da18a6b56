/**
 * Request duration on the HTTP port of every role, on the platform's registry: `crowsnest_http_request_seconds` by route
 * template, method and status class. Labels stay low-cardinality: the route template, never the URL.
 */
import type { FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';
import { Histogram, type Registry } from 'prom-client';

export interface RequestMetricsOptions {
  registry: Registry;
}

const NAME = 'crowsnest_http_request_seconds';

function histogram(registry: Registry): Histogram<'route' | 'method' | 'status'> {
  // One registry may serve several app instances (tests, a restart of the HTTP layer): register once.
  const existing = registry.getSingleMetric(NAME);
  if (existing) return existing as Histogram<'route' | 'method' | 'status'>;
  return new Histogram({
    name: NAME,
    help: 'HTTP request duration on the process HTTP port (query API, health, metrics).',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
}

const requestMetrics: FastifyPluginCallback<RequestMetricsOptions> = (app, opts, done) => {
  const h = histogram(opts.registry);
  app.addHook('onResponse', (req, reply, next) => {
    const route = req.routeOptions.url ?? 'unmatched';
    h.observe({ route, method: req.method, status: `${Math.floor(reply.statusCode / 100)}xx` }, reply.elapsedTime / 1000);
    next();
  });
  done();
};

export const requestMetricsPlugin = fp(requestMetrics, { name: 'crowsnest-http-request-metrics', fastify: '5.x' });
