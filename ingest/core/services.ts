/**
 * Services that roles in different folders share inside one process (role.ts `ServiceKey`). Keys that only
 * ingest roles share live beside them (ingest/pipeline/transport.ts).
 */
import type { PipelineStatus } from './pipeline-status.ts';
import { ServiceKey } from './role.ts';

/** The ingest pipeline's state now, provided by the pipeline monitor, served by the query API. */
export const PIPELINE_STATUS = new ServiceKey<() => PipelineStatus>('pipeline-status');
