/**
 * Optional bearer-token authentication for the whole HTTP app of a process (query API; health stays open) (tokens from config; none configured = off).
 *
 * Routes that set `config: { public: true }` stay open: the kubelet probes (/healthz, /readyz), the OpenAPI
 * document (it describes the API, not the data) and the platform's own /metrics. /metrics is open on purpose:
 * it carries only low-cardinality operational counters (no telemetry content, no tenant or service names, see
 * ingest/core/metrics.ts), and the only credentials there are query tokens that read *all* telemetry, so
 * handing one to every Prometheus that scrapes us would widen exposure of a far more sensitive secret than the
 * metrics themselves. Restrict who reaches the port with a NetworkPolicy instead.
 */
import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { authEnabled, tokenMatches } from './auth.ts';
import { AppError } from './errors.ts';

export interface AuthOptions {
  /** Accepted bearer tokens; undefined or empty turns authentication off. */
  tokens?: readonly string[] | undefined;
}

/** Route config flag of routes reachable without a token. */
export interface PublicRouteConfig {
  public?: boolean;
}

function isPublic(req: FastifyRequest): boolean {
  return (req.routeOptions.config as PublicRouteConfig).public === true;
}

const auth: FastifyPluginCallback<AuthOptions> = (app, opts, done) => {
  const tokens = opts.tokens;
  if (authEnabled(tokens)) {
    app.addHook('onRequest', (req, reply, next) => {
      if (isPublic(req) || tokenMatches(req.headers.authorization, tokens)) {
        next();
        return;
      }
      void reply.header('www-authenticate', 'Bearer realm="crowsnest"');
      next(new AppError('UNAUTHORIZED', 'missing or invalid bearer token (Authorization: Bearer <token>)'));
    });
  }
  done();
};

/** Wrapped with fastify-plugin so the hook covers every route of the app, not only this plugin's scope. */
export const authPlugin = fp(auth, { name: 'crowsnest-http-auth', fastify: '5.x' });
