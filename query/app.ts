/**
 * The query API: route groups under /api/v1 over ClickHouse, as one fastify plugin the query role (role.ts)
 * serves on the process HTTP port. Health, /metrics, the error model, auth and OpenAPI come from the process's
 * HTTP app (#core/http.ts), which every role shares.
 *
 *   /api/v1: every route group in query/routes/ (features.ts) the process can serve: traces, logs, metrics and
 *            services with a store; pipeline when a pipeline reporter is given
 *
 * `buildQueryApp` builds the same HTTP app a process serves, with only the query API in it, for `inject()` tests.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { buildHttpApp } from '#core/http.ts';
import type { Logger } from '#core/log.ts';
import type { PlatformMetrics } from '#core/metrics.ts';
import type { PipelineStatus } from '#core/pipeline-status.ts';
import type { Store } from '#storage/client.ts';
import type { TailHub } from './tail/hub.ts';
import { loadFeatures, servable } from './features.ts';

export interface QueryDeps {
  /** The ClickHouse store; undefined in a process without storage (gateway role), which serves health only. */
  store: Store | undefined;
  /** Accepted bearer tokens; undefined or empty: no authentication. */
  authTokens?: readonly string[] | undefined;
  log: Logger;
  metrics: PlatformMetrics;
  /** Undefined while ready, else why not (drives /readyz). @default always ready */
  notReady?: () => string | undefined;
  /** Ingest pipeline state for GET /api/v1/pipeline; the route exists only when given. */
  pipeline?: (() => PipelineStatus) | undefined;
  /** The live tail's hub; GET /api/v1/logs/tail exists only when given. */
  tail?: TailHub | undefined;
}

export const API_PREFIX = '/api/v1';

export const API_DESCRIPTION =
  'Traces, logs, metrics and service health read from the OpenTelemetry ClickHouse exporter tables. Nanosecond timestamps ' +
  'and 64-bit integers are decimal strings so nothing loses precision. Attribute values are the stored strings (the ' +
  "exporter's string form of each AnyValue).";

export interface QueryApiOptions {
  store: Store | undefined;
  pipeline?: (() => PipelineStatus) | undefined;
  tail?: TailHub | undefined;
}

/** The /api/v1 route groups this process can serve. */
export const queryApi: FastifyPluginAsync<QueryApiOptions> = async (app, opts) => {
  const deps = { store: opts.store, pipeline: opts.pipeline, tail: opts.tail };
  for (const feature of await loadFeatures()) {
    if (!servable(feature, deps)) continue;
    // `servable` checked that every need is present.
    await app.register(feature.plugin as FastifyPluginAsync<object>, { ...deps, prefix: API_PREFIX });
  }
};

/** The HTTP app of a process that runs only the query API, for tests (`inject()`) and benchmarks. */
export async function buildQueryApp(deps: QueryDeps): Promise<FastifyInstance> {
  return buildHttpApp({
    log: deps.log,
    metrics: deps.metrics,
    authTokens: deps.authTokens,
    notReady: deps.notReady ?? (() => undefined),
    description: API_DESCRIPTION,
    plugins: [{ plugin: queryApi, opts: { store: deps.store, pipeline: deps.pipeline, tail: deps.tail } }],
  });
}
