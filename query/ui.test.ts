/**
 * The web UI beside the API on one port: page paths answer index.html, assets are cached for good, and nothing
 * the API, probes or scrapers use is shadowed; the shell is public while the data stays behind the token.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpApp } from '#core/http.ts';
import { silentLogger } from '#core/log.ts';
import { createMetrics } from '#core/metrics.ts';
import { queryApi } from './app.ts';
import { UI_PAGES, uiPlugin } from './ui.ts';

const INDEX = '<!doctype html><div id="root"></div><script type="module" src="/assets/index-abc.js"></script>';
const BIG = Array.from({ length: 400 }, (_, i) => `export const v${i} = ${i};`).join('\n');

async function app(dist: string, authTokens?: string[]): Promise<FastifyInstance> {
  return buildHttpApp({
    log: silentLogger(),
    metrics: createMetrics(),
    authTokens,
    notReady: () => undefined,
    plugins: [
      { plugin: queryApi, opts: { store: undefined, pipeline: () => ({ transport: 'wal' as const }) } },
      { plugin: uiPlugin, opts: { dist } },
    ],
  });
}

let dist: string;
let open: FastifyInstance;
let locked: FastifyInstance;
beforeAll(async () => {
  dist = mkdtempSync(join(tmpdir(), 'crowsnest-ui-'));
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), INDEX);
  writeFileSync(join(dist, 'assets', 'index-abc.js'), 'console.log(1)');
  // What ui/scripts/ensure-built.mjs leaves beside a file worth compressing: a brotli and a gzip copy.
  writeFileSync(join(dist, 'assets', 'big-abc.js'), BIG);
  writeFileSync(join(dist, 'assets', 'big-abc.js.br'), brotliCompressSync(BIG));
  writeFileSync(join(dist, 'assets', 'big-abc.js.gz'), gzipSync(BIG));
  writeFileSync(join(dist, 'index.html.br'), brotliCompressSync(INDEX));
  writeFileSync(join(dist, 'index.html.gz'), gzipSync(INDEX));
  open = await app(dist);
  locked = await app(dist, ['s3cret']);
});
afterAll(async () => {
  await open?.close();
  await locked?.close();
  rmSync(dist, { recursive: true, force: true });
});

describe('the UI on the query port', () => {
  it.each(['/', '/services', '/services/checkout', '/services/a%2Fb', '/traces', '/traces/0123456789abcdef0123456789abcdef', '/logs', '/explore'])(
    '%s answers index.html, never cached',
    async (url) => {
      const r = await open.inject({ url });
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-type']).toContain('text/html');
      expect(r.headers['cache-control']).toBe('no-cache');
      expect(r.body).toBe(INDEX);
    },
  );

  it('serves hashed assets cached for a year, and nothing outside them', async () => {
    const r = await open.inject({ url: '/assets/index-abc.js' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('javascript');
    expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await open.inject({ url: '/assets/missing.js' })).statusCode).toBe(404);
    const escape = await open.inject({ url: '/assets/..%2Findex.html' });
    expect([400, 403, 404]).toContain(escape.statusCode);
    expect(escape.body).not.toContain('<div id="root">');
    expect((await open.inject({ url: '/assets/../../package.json' })).body).not.toContain('"crowsnest"');
  });

  it.each([
    ['gzip, deflate, br, zstd', 'br'],
    ['gzip', 'gzip'],
    ['br;q=0.5, gzip;q=1', 'gzip'],
    ['deflate', undefined],
    [undefined, undefined],
  ])('sends the build\'s compressed copy as accepted (Accept-Encoding: %s → %s), never compressing per request', async (accept, encoding) => {
    const headers = accept === undefined ? {} : { 'accept-encoding': accept };
    for (const [url, original, cache] of [
      ['/assets/big-abc.js', BIG, 'public, max-age=31536000, immutable'],
      ['/services', INDEX, 'no-cache'],
    ] as const) {
      const r = await open.inject({ url, headers });
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-encoding']).toBe(encoding);
      expect(r.headers['vary']).toMatch(/accept-encoding/i);
      expect(r.headers['cache-control']).toBe(cache);
      expect(r.headers['content-type']).toContain(url === '/services' ? 'text/html' : 'javascript');
      const body = encoding === 'br' ? brotliDecompressSync(r.rawPayload) : encoding === 'gzip' ? gunzipSync(r.rawPayload) : r.rawPayload;
      expect(body.toString()).toBe(original);
      if (encoding !== undefined && original === BIG) expect(r.rawPayload.length).toBeLessThan(original.length / 3);
    }
    // A file the build left uncompressed (too small to gain) is sent as it is, whatever the client accepts.
    const small = await open.inject({ url: '/assets/index-abc.js', headers });
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(small.body).toBe('console.log(1)');
  });

  it('shadows none of the API, probes, metrics or OpenAPI', async () => {
    expect((await open.inject({ url: '/api/v1/pipeline' })).json()).toEqual({ transport: 'wal' });
    expect((await open.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await open.inject({ url: '/metrics' })).body).toContain('# HELP');
    expect((await open.inject({ url: '/openapi.json' })).json()).toHaveProperty('openapi');
    const unknown = await open.inject({ url: '/api/v1/nope' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect((await open.inject({ url: '/nope' })).statusCode).toBe(404);
    // UI routes stay out of the API description.
    expect(Object.keys((await open.inject({ url: '/openapi.json' })).json().paths)).not.toContain('/services');
  });

  it('with auth on, serves the shell without a token and the data only with one', async () => {
    expect((await locked.inject({ url: '/services' })).statusCode).toBe(200);
    expect((await locked.inject({ url: '/assets/index-abc.js' })).statusCode).toBe(200);
    expect((await locked.inject({ url: '/api/v1/pipeline' })).statusCode).toBe(401);
    expect((await locked.inject({ url: '/api/v1/pipeline', headers: { authorization: 'Bearer s3cret' } })).statusCode).toBe(200);
  });

  it('without a build, says how to build it instead of a blank page', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'crowsnest-ui-none-'));
    const a = await app(empty);
    const r = await a.inject({ url: '/services' });
    expect(r.statusCode).toBe(503);
    expect(r.body).toContain('npm run build:ui');
    expect((await a.inject({ url: '/api/v1/pipeline' })).statusCode).toBe(200);
    await a.close();
    rmSync(empty, { recursive: true, force: true });
  });

  it("serves exactly the UI page registry's paths (ui/src/shell/pages.ts)", () => {
    const registry = readFileSync(join(import.meta.dirname, '..', 'ui', 'src', 'shell', 'pages.ts'), 'utf8');
    const paths = [...registry.matchAll(/path: '([^']+)'/g)].map((m) => m[1]!.replace(/:[A-Za-z]+$/, '*'));
    expect(['/', ...paths].sort()).toEqual([...UI_PAGES].sort());
  });
});
