/**
 * GET /api/v1/pipeline: the ingest pipeline's state as the composition root reports it (transport, Kafka
 * consumer lag per topic and partition, produce/consume rates; see ingest/kafka/lag.ts). The shape belongs to
 * the reporter, so the response schema only promises an object.
 */
import type { FastifyPluginCallback } from 'fastify';
import { errorResponses } from '../schemas.ts';

export interface PipelineRouteOptions {
  pipeline: () => object;
}

export const pipelineRoutes: FastifyPluginCallback<PipelineRouteOptions> = (app, { pipeline }, done) => {
  app.get(
    '/pipeline',
    {
      schema: {
        tags: ['pipeline'],
        summary: 'Ingest pipeline state: transport, Kafka consumer lag per topic/partition, produce and consume rates.',
        querystring: { type: 'object', additionalProperties: false, properties: {} },
        response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
      },
    },
    (_req, reply) => reply.send(pipeline()),
  );
  done();
};
