/**
 * The web UI (ui/, built by Vite into ui/dist) on the query role's HTTP port, same origin as the API:
 *
 *   /assets/*                hashed bundle files, cached for a year (a new build has new names)
 *   /, /services, /services/:name, /traces, /traces/:traceId, /logs, /explore
 *                            index.html (the single-page app routes these in the browser), never cached
 *
 * Compressed as the build left them: ui/scripts/ensure-built.mjs writes a `.br` and a `.gz` beside every file
 * worth compressing, and each is sent as is to a client that accepts it (brotli first), with `Vary:
 * Accept-Encoding` so a cache keeps them apart; a client that accepts neither gets the file itself. Nothing is
 * compressed per request: the build's ~1 MB of files are ~260 KB as brotli at its best level, which costs far
 * more CPU than serving them (the query role's CPU is for queries).
 *
 * Explicit routes, not a catch-all: /api/v1, /metrics, /healthz, /readyz and /openapi.json stay what they are,
 * and an unknown path is still the API's 404. The list mirrors the UI's page registry (ui/src/shell/pages.ts);
 * test/e2e/ui-routes.test.ts checks the two agree.
 *
 * Auth: the shell and its code are public, as /openapi.json is: they carry no telemetry. Every data request the
 * page makes goes to /api/v1 with the same bearer token any client sends; with `--auth-token` on, the UI asks
 * for one and keeps it in the browser's localStorage.
 *
 * Without a build (ui/dist missing: a checkout where `npm install` skipped scripts) `/` says how to build it.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

export const UI_DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'ui', 'dist');

/** The UI's page paths, as fastify routes (`*` for a page's parameter, which may hold slashes once encoded). */
export const UI_PAGES = ['/', '/services', '/services/*', '/traces', '/traces/*', '/logs', '/explore'] as const;

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Crow's Nest</title>
<h1>The web UI is not built</h1>
<p>Build it with <code>npm run build:ui</code> (npm install and npm start do it, unless scripts are disabled), then reload.
The API is at <a href="/api/v1/services">/api/v1</a>; its description at <a href="/openapi.json">/openapi.json</a>.</p>`;

export interface UiOptions {
  /** The built UI; defaults to ui/dist of this checkout. */
  dist?: string;
}

export const uiPlugin: FastifyPluginAsync<UiOptions> = async (app, opts) => {
  const dist = opts.dist ?? UI_DIST;
  const built = existsSync(join(dist, 'index.html'));
  const config = { public: true };
  const schema = { hide: true };
  if (!built) {
    app.log.warn({ dist }, 'the web UI is not built (npm run build:ui); / explains how');
    for (const url of UI_PAGES) app.get(url, { config, schema }, (_req, reply) => reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT));
    return;
  }
  // Only the reply decorator: the routes below decide what is served, so nothing is served by accident.
  await app.register(fastifyStatic, { root: dist, serve: false, preCompressed: true });
  app.get('/assets/*', { config, schema }, (req, reply) => {
    const file = (req.params as { '*': string })['*'];
    return reply.header('vary', 'accept-encoding').sendFile(file, join(dist, 'assets'), { maxAge: '365d', immutable: true });
  });
  for (const url of UI_PAGES) {
    app.get(url, { config, schema }, (_req, reply) =>
      reply.header('cache-control', 'no-cache').header('vary', 'accept-encoding').sendFile('index.html', dist, { cacheControl: false }),
    );
  }
};
