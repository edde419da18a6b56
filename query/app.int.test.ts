import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '#core/log.ts';
import { createMetrics } from '#core/metrics.ts';
import { buildQueryApp } from './app.ts';
import { type Harness, startHarness } from './testing/harness.ts';

const TOKEN = 'q-token-7f3a9c';
let h: Harness;
let ready = false;

beforeAll(async () => {
  h = await startHarness('app', { authTokens: ['other-token', TOKEN], notReady: () => (ready ? undefined : 'writer: consumer crashed') });
});
afterAll(async () => {
  await h.close();
});

const API_ROUTES = [
  '/api/v1/traces/{traceId}',
  '/api/v1/traces',
  '/api/v1/traces/scatter',
  '/api/v1/logs',
  '/api/v1/logs/histogram',
  '/api/v1/logs/facets',
  '/api/v1/logs/context',
  '/api/v1/metrics',
  '/api/v1/metrics/query',
  '/api/v1/metrics/points',
  '/api/v1/metrics/label-values',
  '/api/v1/services',
  '/api/v1/services/series',
  '/api/v1/services/operations',
];

describe('bearer-token auth', () => {
  it('answers 401 without a token or with a wrong one, on every API route', async () => {
    for (const url of ['/api/v1/traces', '/api/v1/logs', '/api/v1/logs/histogram', '/api/v1/metrics', '/api/v1/metrics/query?name=x', '/api/v1/metrics/points?name=x', '/api/v1/services', '/api/v1/services/series', '/api/v1/services/operations?service=x', `/api/v1/traces/${'a'.repeat(32)}`]) {
      for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: `Basic ${TOKEN}` }, { authorization: `Bearer ${TOKEN}x` }]) {
        const r = await h.app.inject({ url, headers });
        expect(r.statusCode, `${url} ${JSON.stringify(headers)}`).toBe(401);
        expect(r.headers['www-authenticate']).toContain('Bearer');
        expect(r.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.stringContaining('bearer token') } });
      }
    }
  });

  it('lets a configured token through', async () => {
    const r = await h.get('/api/v1/services', { authorization: `Bearer ${TOKEN}` });
    expect(r.status).toBe(200);
    expect((await h.get('/api/v1/metrics', { authorization: 'bearer other-token' })).status).toBe(200);
  });

  it('checks the token before validating parameters, so probing needs a token', async () => {
    expect((await h.get('/api/v1/traces?limit=99999')).status).toBe(401);
    expect((await h.get('/api/v1/traces?limit=99999', { authorization: `Bearer ${TOKEN}` })).status).toBe(400);
  });

  it('keeps health, readiness, /metrics and the OpenAPI document open', async () => {
    expect((await h.get('/healthz')).status).toBe(200);
    expect((await h.get('/readyz')).status).toBe(503);
    expect((await h.get('/metrics')).status).toBe(200);
    expect((await h.get('/openapi.json')).status).toBe(200);
  });
});

describe('health', () => {
  it('/readyz follows the roles\' readiness and says why not', async () => {
    ready = false;
    expect(await h.get('/readyz')).toEqual({ status: 503, body: { status: 'not ready', reason: 'writer: consumer crashed' } });
    ready = true;
    expect(await h.get('/readyz')).toEqual({ status: 200, body: { status: 'ready' } });
    expect(await h.get('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('/metrics is the Prometheus text format of the platform registry, with query request durations', async () => {
    await h.get('/api/v1/services', { authorization: `Bearer ${TOKEN}` });
    const r = await h.app.inject({ url: '/metrics' });
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(r.body).toContain('# TYPE crowsnest_received_items_total counter');
    expect(r.body).toMatch(/crowsnest_http_request_seconds_count\{route="\/api\/v1\/services",method="GET",status="2xx"\} [1-9]/);
  });
});

describe('OpenAPI', () => {
  it('/openapi.json documents every route with its parameters and the bearer scheme', async () => {
    const r = await h.get<{
      openapi: string;
      paths: Record<string, { get: { parameters?: { name: string; in: string }[]; responses: Record<string, unknown> } }>;
      components: { securitySchemes: Record<string, unknown> };
      security: unknown[];
    }>('/openapi.json');
    expect(r.body.openapi).toBe('3.1.0');
    expect(Object.keys(r.body.paths).sort()).toEqual([...API_ROUTES, '/healthz', '/readyz', '/metrics'].sort());
    expect(r.body.components.securitySchemes['bearerAuth']).toEqual({ type: 'http', scheme: 'bearer' });
    expect(r.body.security).toEqual([{ bearerAuth: [] }]);
    const search = r.body.paths['/api/v1/traces']!.get;
    expect(search.parameters!.map((p) => p.name).sort()).toEqual(
      ['attr', 'cursor', 'end', 'limit', 'maxDuration', 'minDuration', 'operation', 'service', 'start', 'status'].sort(),
    );
    expect(Object.keys(search.responses)).toEqual(expect.arrayContaining(['200', '400', '401']));
    expect(r.body.paths['/api/v1/traces/{traceId}']!.get.parameters!.find((p) => p.in === 'path')!.name).toBe('traceId');
    expect(JSON.stringify(r.body.paths['/api/v1/logs'])).toContain('exporter string form');
  });
});

describe('without a store', () => {
  it('serves health only (a process without storage), and the pipeline state when given', async () => {
    const app = await buildQueryApp({
      store: undefined,
      log: silentLogger(),
      metrics: createMetrics(),
      notReady: () => undefined,
      pipeline: () => ({ transport: 'wal' }),
    });
    try {
      expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
      expect((await app.inject({ url: '/api/v1/traces' })).statusCode).toBe(404);
      expect((await app.inject({ url: '/api/v1/pipeline' })).json()).toEqual({ transport: 'wal' });
    } finally {
      await app.close();
    }
  });
});
