/**
 * The query API as a fastify plugin tree, built apart from listening: tests use `inject()`, the process that
 * owns signals calls `listen()` and `close()`.
 *
 *   root: error model · OpenAPI (@fastify/swagger) · bearer auth · request metrics
 *   ├── health: /healthz /readyz /metrics                      (public)
 *   ├── /openapi.json                                          (public)
 *   └── /api/v1: traces · logs · metrics · services · pipeline (auth when tokens are configured;
 *                the data routes only with a store, pipeline only when its reporter is given)
 *
 * Every route validates its query string against a JSON schema (unknown parameters are refused, so a typo
 * does not silently widen a search) and serializes through a response schema.
 */
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifySchemaValidationError, LogController } from 'fastify';
import type { Logger } from 'pino';
import { authEnabled } from '#core/auth.ts';
import { AppError, errorHandler } from '#core/errors.ts';
import type { PlatformMetrics } from '#core/metrics.ts';
import type { Store } from '#storage/client.ts';
import { authPlugin } from './plugins/auth.ts';
import { requestMetricsPlugin } from './plugins/request-metrics.ts';
import { healthRoutes } from './routes/health.ts';
import { logRoutes } from './routes/logs.ts';
import { metricRoutes } from './routes/metrics.ts';
import { pipelineRoutes } from './routes/pipeline.ts';
import { serviceRoutes } from './routes/services.ts';
import { traceRoutes } from './routes/traces.ts';

export interface QueryDeps {
  /** The ClickHouse store; undefined in a process without storage (gateway role), which serves health only. */
  store: Store | undefined;
  /** Accepted bearer tokens; undefined or empty: no authentication. */
  authTokens?: readonly string[] | undefined;
  log: Logger;
  metrics: PlatformMetrics;
  /** True once migrations ran and the receivers listen (drives /readyz). */
  isReady: () => boolean;
  /** Ingest pipeline state for GET /api/v1/pipeline; the route exists only when given. */
  pipeline?: (() => object) | undefined;
}

export const API_PREFIX = '/api/v1';

/**
 * Request log lines at debug level, one per request (none on arrival): at info, a busy dashboard would write
 * two lines per panel refresh. Failures are logged by the error handler; durations are in the request metrics.
 */
class QueryLogController extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(error: Error | null | undefined, req: FastifyRequest, reply: FastifyReply): void {
    if (error) return;
    req.log.debug({ method: req.method, route: req.routeOptions.url, status: reply.statusCode, ms: reply.elapsedTime }, 'request completed');
  }
}

/** Validation messages name the parameter: `querystring/limit must be <= 1000`, `querystring/servce is not a known parameter`. */
function formatSchemaErrors(errors: FastifySchemaValidationError[], dataVar: string): Error {
  return new AppError('BAD_REQUEST', schemaMessage(errors[0], dataVar));
}

function schemaMessage(e: FastifySchemaValidationError | undefined, dataVar: string): string {
  if (e === undefined) return `${dataVar} is invalid`;
  const where = `${dataVar}${e.instancePath}`;
  const p = e.params;
  switch (e.keyword) {
    case 'additionalProperties':
      return `${dataVar}/${String(p['additionalProperty'])} is not a known parameter`;
    case 'required':
      return `${dataVar}/${String(p['missingProperty'])} is required`;
    case 'enum':
      return `${where} must be one of ${(p['allowedValues'] as unknown[]).join(', ')}`;
    default:
      return `${where} ${e.message ?? 'is invalid'}`;
  }
}

export async function buildQueryApp(deps: QueryDeps): Promise<FastifyInstance> {
  const log = deps.log.child({ component: 'query' });
  const app = Fastify({
    loggerInstance: log,
    logController: new QueryLogController(),
    schemaErrorFormatter: formatSchemaErrors,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    return503OnClosing: true,
  });

  app.setErrorHandler(errorHandler(log));
  app.setNotFoundHandler((req) => {
    throw new AppError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);
  });

  const auth = authEnabled(deps.authTokens);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: "Crow's Nest query API",
        version: '1',
        description:
          'Traces, logs, metrics and service health read from the OpenTelemetry ClickHouse exporter tables. Nanosecond timestamps ' +
          'and 64-bit integers are decimal strings so nothing loses precision. Attribute values are the stored strings (the ' +
          "exporter's string form of each AnyValue).",
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      ...(auth ? { security: [{ bearerAuth: [] }] } : {}),
    },
  });
  await app.register(authPlugin, { tokens: deps.authTokens });
  await app.register(requestMetricsPlugin, { registry: deps.metrics.registry });

  await app.register(healthRoutes, { metrics: deps.metrics, isReady: deps.isReady });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, (_req, reply) => reply.send(app.swagger()));

  if (deps.store !== undefined) {
    const routeOpts = { store: deps.store, prefix: API_PREFIX };
    await app.register(traceRoutes, routeOpts);
    await app.register(logRoutes, routeOpts);
    await app.register(metricRoutes, routeOpts);
    await app.register(serviceRoutes, routeOpts);
  }
  if (deps.pipeline !== undefined) await app.register(pipelineRoutes, { pipeline: deps.pipeline, prefix: API_PREFIX });

  // Not made ready here: the caller may still register plugins (the UI's static files) before listen()/inject().
  // A pino Logger instance types the app as FastifyInstance<…, Logger>; callers only need the base logger type.
  return app as unknown as FastifyInstance;
}
