/**
 * GET /api/v1/pipeline: the ingest pipeline's state as the composition root reports it (transport, Kafka
 * consumer lag per topic and partition, produce/consume rates). Its shape is the shared contract in
 * #core/pipeline-status.ts, which the producer (ingest/kafka/lag.ts) is typed by and the answer serializes through.
 */
import { defineFeature } from '../features.ts';
import type { FastifyPluginCallback } from 'fastify';
import type { PipelineResponse } from '../contract.ts';
import { pipelineSchema } from '../schemas/pipeline.ts';

export interface PipelineRouteOptions {
  pipeline: () => PipelineResponse;
}

interface PipelineRoute {
  Reply: { 200: PipelineResponse };
}

export const pipelineRoutes: FastifyPluginCallback<PipelineRouteOptions> = (app, { pipeline }, done) => {
  app.get<PipelineRoute>('/pipeline', { schema: pipelineSchema }, () => pipeline());
  done();
};

/** Registered by the query API (../features.ts). */
export const feature = defineFeature({ name: 'pipeline', needs: ['pipeline'], plugin: pipelineRoutes });
