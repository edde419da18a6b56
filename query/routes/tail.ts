/**
 * GET /api/v1/logs/tail: the live tail, as Server-Sent Events (query/tail/: the hub, its sources, the SSE
 * writer; the stream's events are described in query/schemas/tail.ts). The filters are validated and parsed
 * exactly as the search's (toLogFilters), so a bad one is the same 400 and a good one means the same thing;
 * only then is the reply hijacked for the stream. The viewer cap answers 503 + Retry-After before that.
 */
import type { FastifyPluginCallback } from 'fastify';
import { AppError } from '#core/errors.ts';
import type { LogTailQuery } from '../contract.ts';
import { defineFeature } from '../features.ts';
import type { TailHub } from '../tail/hub.ts';
import { logTailSchema } from '../schemas/tail.ts';
import { SseStream } from '../tail/sse.ts';
import { toLogFilters } from './logs.ts';

export interface TailRouteOptions {
  tail: TailHub;
}

/** Seconds a refused client is asked to wait: viewers come and go with page views. */
const RETRY_AFTER_S = 5;

export const tailRoutes: FastifyPluginCallback<TailRouteOptions> = (app, { tail }, done) => {
  app.get<{ Querystring: LogTailQuery }>('/logs/tail', { schema: logTailSchema }, (req, reply) => {
    const { range: _range, ...filters } = toLogFilters(req.query, Date.now());
    if (tail.full) {
      throw new AppError('OVERLOADED', `too many live tails are open (at most ${tail.maxViewers} per query process); retry later`, { retryAfterSeconds: RETRY_AFTER_S });
    }
    reply.hijack();
    const sse = new SseStream(req.raw, reply.raw);
    sse.open();
    const viewer = tail.join(filters, sse);
    sse.onClose(() => tail.leave(viewer));
    return reply;
  });
  done();
};

/** Registered by the query API (../features.ts) in processes that run a tail hub (the query role). */
export const feature = defineFeature({ name: 'logs-tail', needs: ['tail'], plugin: tailRoutes });
