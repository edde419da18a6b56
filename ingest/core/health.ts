/**
 * Process health for kubelet probes and the platform's own Prometheus metrics. All public (see plugins/auth.ts).
 * - /healthz: 200 while the process runs (liveness).
 * - /readyz: 200 once every role of the process started and says it is ready, else 503 with the reason
 *   (readiness: the kubelet stops routing to a process whose Kafka consumer crashed, say).
 * - /metrics: the platform registry in Prometheus text format.
 */
import type { FastifyPluginCallback } from 'fastify';
import type { PlatformMetrics } from './metrics.ts';

export interface HealthOptions {
  metrics: PlatformMetrics;
  /** Undefined while ready, else why not. */
  notReady: () => string | undefined;
}

const status = {
  type: 'object',
  properties: { status: { type: 'string' }, reason: { type: 'string' } },
  required: ['status'],
} as const;

export const healthRoutes: FastifyPluginCallback<HealthOptions> = (app, opts, done) => {
  const config = { public: true };
  app.get(
    '/healthz',
    { config, schema: { tags: ['health'], summary: 'Liveness: 200 while the process runs.', security: [], response: { 200: status } } },
    (_req, reply) => reply.send({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      config,
      schema: {
        tags: ['health'],
        summary: 'Readiness: 200 once every role started and is ready; 503 with the reason otherwise.',
        security: [],
        response: { 200: status, 503: status },
      },
    },
    (_req, reply) => {
      const reason = opts.notReady();
      return reason === undefined ? reply.send({ status: 'ready' }) : reply.status(503).send({ status: 'not ready', reason });
    },
  );
  app.get(
    '/metrics',
    {
      config,
      schema: {
        tags: ['health'],
        summary: "The platform's own metrics, Prometheus text format. Open even with auth on (see docs).",
        security: [],
        response: { 200: { description: 'Prometheus text exposition format.', type: 'string' } },
      },
    },
    async (_req, reply) => {
      const body = await opts.metrics.registry.metrics();
      return reply.header('content-type', opts.metrics.registry.contentType).send(body);
    },
  );
  done();
};
