/**
 * GET /api/v1/pipeline: the route's schema. The answer's schema is the shared pipeline-status contract, which
 * its producer (the Kafka lag monitor) is typed by too.
 */
import { pipelineStatusSchema } from '#core/pipeline-status.ts';
import { errorResponses, noParams } from './common.ts';

export const pipelineSchema = {
  tags: ['pipeline'],
  summary: 'Ingest pipeline state: transport, Kafka consumer lag per topic/partition, produce and commit rates.',
  querystring: noParams,
  response: { 200: pipelineStatusSchema, ...errorResponses },
} as const;
