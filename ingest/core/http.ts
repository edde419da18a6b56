/**
 * The HTTP app of every process (its `--http-port`), as a fastify plugin tree built apart from listening:
 * tests use `inject()`, the host (host.ts) serves it on a socket it opened earlier.
 *
 *   root: error model · OpenAPI (@fastify/swagger) · bearer auth · request metrics
 *   ├── /healthz /readyz /metrics   (public; health.ts)
 *   ├── /openapi.json               (public)
 *   └── the roles' route plugins    (the query API under /api/v1, later the adapter and the inspector)
 *
 * Every route validates its input against a JSON schema (unknown parameters are refused, so a typo does not
 * silently widen a search) and serializes through a response schema.
 */
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifySchemaValidationError, type FastifyServerFactory, LogController } from 'fastify';
import { authEnabled } from './auth.ts';
import { AppError, errorHandler, requestIds } from './errors.ts';
import { healthRoutes } from './health.ts';
import { authPlugin } from './http-auth.ts';
import { requestMetricsPlugin } from './http-metrics.ts';
import type { Logger } from './log.ts';
import type { PlatformMetrics } from './metrics.ts';

export interface RoutePlugin {
  // Fastify plugins of either style; options are checked where the role registers them.
  plugin: (...args: never[]) => unknown;
  opts: object;
}

export interface HttpAppOptions {
  log: Logger;
  metrics: PlatformMetrics;
  /** Accepted bearer tokens; undefined or empty: no authentication. */
  authTokens?: readonly string[] | undefined;
  /** Undefined while ready, else why not (drives /readyz). */
  notReady: () => string | undefined;
  plugins: readonly RoutePlugin[];
  /** What /openapi.json says the API is. */
  description?: string;
  /** For the host: serve on a server it already listens with. */
  serverFactory?: FastifyServerFactory;
}

/**
 * Request log lines at debug level, one per request (none on arrival): at info, a busy dashboard would write
 * two lines per panel refresh. Failures are logged by the error handler; durations are in the request metrics.
 */
class RequestLogController extends LogController {
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

export async function buildHttpApp(opts: HttpAppOptions): Promise<FastifyInstance> {
  const log = opts.log;
  const app = Fastify({
    loggerInstance: log,
    logController: new RequestLogController(),
    schemaErrorFormatter: formatSchemaErrors,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    return503OnClosing: true,
    // Unique across processes and restarts, so an id a user reports finds its log line.
    genReqId: requestIds(),
    ...(opts.serverFactory ? { serverFactory: opts.serverFactory } : {}),
  });

  app.setErrorHandler(errorHandler(log));
  app.setNotFoundHandler((req) => {
    throw new AppError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);
  });

  const auth = authEnabled(opts.authTokens);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: "Crow's Nest", version: '1', description: opts.description ?? "A Crow's Nest process: health and metrics." },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      ...(auth ? { security: [{ bearerAuth: [] }] } : {}),
    },
  });
  await app.register(authPlugin, { tokens: opts.authTokens });
  await app.register(requestMetricsPlugin, { registry: opts.metrics.registry });

  await app.register(healthRoutes, { metrics: opts.metrics, notReady: opts.notReady });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, (_req, reply) => reply.send(app.swagger()));

  for (const { plugin, opts: pluginOpts } of opts.plugins) {
    await app.register(plugin as Parameters<FastifyInstance['register']>[0], pluginOpts);
  }
  // A pino Logger instance types the app as FastifyInstance<…, Logger>; callers only need the base logger type.
  return app as unknown as FastifyInstance;
}
