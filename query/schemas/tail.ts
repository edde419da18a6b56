/**
 * GET /api/v1/logs/tail: the schema (query/routes/tail.ts serves it; query/contract.ts types it). The filters are
 * the search's own (logs.ts), without the time range: a tail shows what arrives from now on.
 * No runtime imports beyond schema modules: the UI type-checks this through the contract.
 */
import { errorResponses } from './common.ts';
import { logFilterParams } from './logs.ts';

const { start: _start, end: _end, ...tailFilterParams } = logFilterParams;

export const logTailQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: tailFilterParams,
} as const;

/** `data` of the `ready` event. */
export const logTailReady = {
  type: 'object',
  additionalProperties: false,
  properties: {
    source: {
      type: 'string',
      enum: ['writer', 'kafka', 'poll'],
      description: 'writer: lines the writer of this process has just inserted; kafka: lines read from the logs topic; poll: the newest stored lines, read once a second.',
    },
  },
  required: ['source'],
} as const;

/** `data` of a `dropped` event. */
export const logTailDropped = {
  type: 'object',
  additionalProperties: false,
  properties: {
    count: { type: 'integer', description: 'Matching lines skipped since the previous report.' },
    reason: {
      type: 'string',
      enum: ['slow-reader', 'overflow', 'source'],
      description: 'slow-reader: this client did not read fast enough; overflow: more lines than the tail sends; source: the source skipped them.',
    },
  },
  required: ['count', 'reason'],
} as const;

const DESCRIPTION = `Server-Sent Events (text/event-stream), authenticated like every route (Authorization: Bearer; read the stream with fetch, since EventSource cannot send the header):
- \`event: ready\` first, \`data: {"source": "writer" | "kafka" | "poll"}\`;
- \`event: records\`, \`data: {"records": [...]}\`: new matching records in the shape of GET /api/v1/logs's \`logs\`, oldest first, a few events per second at most;
- \`event: dropped\`, \`data: {"count": N, "reason": "slow-reader" | "overflow" | "source"}\` when matching lines were skipped for this client;
- \`: keepalive\` comment lines every 15 s.
Too many tails open: 503 with Retry-After. Closing the request ends the tail.`;

export const logTailSchema = {
  tags: ['logs'],
  summary: 'Live tail: new log records matching the search filters, pushed as they are stored.',
  description: DESCRIPTION,
  querystring: logTailQuerystring,
  produces: ['text/event-stream'],
  response: {
    200: { description: 'The event stream (see the description).', content: { 'text/event-stream': { schema: { type: 'string' } } } },
    ...errorResponses,
  },
} as const;
