/**
 * The query role: serves the query API (app.ts) on the process HTTP port, over the process's store, and the
 * web UI (ui.ts) at / beside it (same origin, same auth). The pipeline route is there when the process runs a
 * pipeline monitor (`PIPELINE_STATUS`, started before it).
 */
import { STORAGE } from '#config/options.ts';
import { defineRole } from '#core/role.ts';
import { PIPELINE_STATUS } from '#core/services.ts';
import { queryApi } from './app.ts';
import { uiPlugin } from './ui.ts';

export const queryRole = defineRole({
  name: 'query',
  summary: 'The query API (:8080) over ClickHouse: traces, logs, metrics, services, pipeline; the web UI at /.',
  options: STORAGE,
  async start(ctx) {
    const store = await ctx.store();
    ctx.routes(queryApi, { store, pipeline: ctx.services.get(PIPELINE_STATUS) });
    ctx.routes(uiPlugin, {});
    return { close: async () => {} };
  },
});
