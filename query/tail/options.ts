/**
 * The live tail's options, part of the query role's config section (flag, CROWSNEST_* variable, file key).
 */
import type { ConfigSpec } from '#config/spec.ts';

export const TAIL = {
  tailMaxViewers: {
    type: 'int',
    default: 100,
    min: 0,
    max: 10_000,
    doc: 'Live tails (GET /api/v1/logs/tail) one query process serves at once; beyond it the route answers 503 + Retry-After. 0 turns the live tail off.',
  },
  tailBufferRecords: {
    type: 'int',
    default: 1000,
    min: 10,
    max: 100_000,
    doc: 'Records a live-tail viewer may have waiting; beyond it (a client that does not read, or more lines than it is sent) the oldest are dropped, and the viewer is told how many.',
  },
} as const satisfies ConfigSpec;
