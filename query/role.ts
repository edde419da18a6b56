/**
 * The query role: serves the query API (app.ts) on the process HTTP port, over the process's store, and the
 * web UI (ui.ts) at / beside it (same origin, same auth). The pipeline route is there when the process runs a
 * pipeline monitor (`PIPELINE_STATUS`, started before it).
 */
import { STORAGE } from '#config/options.ts';
import { defineRole } from '#core/role.ts';
import { LOG_TAP } from '#core/log-tap.ts';
import { PIPELINE_STATUS } from '#core/services.ts';
import { queryApi } from './app.ts';
import { TAIL } from './tail/options.ts';
import { createTailHub } from './tail/service.ts';
import { uiPlugin } from './ui.ts';

export const queryRole = defineRole({
  name: 'query',
  summary: 'The query API (:8080) over ClickHouse: traces, logs, metrics, services, pipeline; the web UI at /.',
  options: { ...STORAGE, ...TAIL },
  async start(ctx) {
    const store = await ctx.store();
    // The live tail hears of new records from the process's log tap (its writer, or a Kafka tap started before
    // this role), or polls the store once per process when there is none (query/tail/service.ts).
    const tail = createTailHub({ tap: ctx.services.get(LOG_TAP), store, config: ctx.config, registry: ctx.metrics.registry, log: ctx.log });
    ctx.routes(queryApi, { store, pipeline: ctx.services.get(PIPELINE_STATUS), tail });
    ctx.routes(uiPlugin, {});
    return {
      close: () => {
        tail.close(); // ends the open event streams, which would otherwise hold the HTTP server's close
        return Promise.resolve();
      },
    };
  },
});
