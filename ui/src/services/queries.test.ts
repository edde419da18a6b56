/**
 * The services pages and their prefetches ask for the same things: the parameters (table-driven), and the keys the
 * real page puts in a real query cache (rendered once with react-dom/server: its hooks register their queries
 * without fetching) against the keys and requests the registry's prefetch makes for the same URL and `now`.
 */
import { QueryClient, QueryClientProvider, hashKey } from '@tanstack/react-query';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { MemoryRouter, Route, Routes } from 'react-router';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TimeProvider } from '../shared/time/context.tsx';
import { parseRange, resolve } from '../shared/time/range.ts';
import { pageAt } from '../shell/prefetch.ts';
import { PAGES } from '../shell/pages.ts';
import { serviceQueries, servicesQueries } from './queries.ts';
import ServicePage from './ServicePage.tsx';
import ServicesPage from './ServicesPage.tsx';

const NOW = Date.UTC(2024, 2, 1, 14, 0, 0, 789); // resolved to the second: 14:00:00.000
const HOUR = 3_600_000;
const END = Date.UTC(2024, 2, 1, 14, 0, 0);

describe('servicesQueries', () => {
  it.each([
    ['no filter: the table and the choices are one request', { namespace: '', environment: '' }, {}],
    ['a namespace', { namespace: 'shop', environment: '' }, { namespace: 'shop' }],
    ['both filters', { namespace: 'shop', environment: 'prod' }, { namespace: 'shop', environment: 'prod' }],
  ])('%s', (_, state, filters) => {
    const q = servicesQueries(state, { startMs: END - HOUR, endMs: END });
    const range = { start: String(END - HOUR), end: String(END) };
    expect(JSON.parse(JSON.stringify(q))).toEqual({
      services: { ...range, ...filters, limit: 1000 },
      unfiltered: { ...range, limit: 1000 },
      series: { ...range, ...filters, points: 30, limit: 1000 },
    });
  });
});

/** Every query key the services pages register when rendered at `url` with the time provider's now at `nowMs`. */
function pageKeys(url: string, nowMs: number): string[] {
  const client = new QueryClient();
  const routes = createElement(
    Routes,
    null,
    createElement(Route, { path: '/services', element: createElement(ServicesPage) }),
    createElement(Route, { path: '/services/:name', element: createElement(ServicePage) }),
  );
  renderToString(
    createElement(QueryClientProvider, { client }, createElement(MemoryRouter, { initialEntries: [url] }, createElement(TimeProvider, { nowMs, children: routes }))),
  );
  return client.getQueryCache().getAll().map((q) => q.queryHash);
}

let requested: string[];
beforeEach(() => {
  requested = [];
  // A stand-in for the network (this is a unit test in Node): records what the prefetch asks the API for.
  vi.stubGlobal('fetch', (url: string) => {
    requested.push(url);
    return Promise.resolve(new Response('{"services":[]}', { headers: { 'content-type': 'application/json' } }));
  });
});
afterEach(() => vi.unstubAllGlobals());

/** The registry's prefetch of `url` at `nowMs`, as main.tsx calls it on the first load: the keys it filled. */
async function prefetchKeys(url: string, nowMs: number): Promise<string[]> {
  // Answers stay fresh for a while, as main.tsx configures them (the table's rows and the unfiltered list are one).
  const client = new QueryClient({ defaultOptions: { queries: { staleTime: 30_000, retry: false } } });
  const { pathname, search } = new URL(url, 'http://ui.test');
  const found = pageAt(pathname);
  const params = new URLSearchParams(search);
  await found?.page.prefetch?.(client, { pathParams: found.pathParams, params, resolved: resolve(parseRange(params.get('from'), params.get('to')).range, nowMs) });
  return client.getQueryCache().getAll().map((q) => q.queryHash);
}

/** Asked only when the range turns out empty (has anything arrived in the last week?): never prefetched. */
const WEEK = hashKey(['/services', { start: 'now-7d', limit: 1 }]);

describe('the services pages and their prefetches', () => {
  it('the registry prefetches /services, and / (which leads there)', () => {
    expect(pageAt('/services')?.page).toBe(PAGES.find((p) => p.path === '/services'));
    expect(pageAt('/')?.page).toBe(PAGES.find((p) => p.path === '/services'));
    expect(pageAt('/services')?.page.prefetch).toBeTypeOf('function');
  });

  it.each([
    '/services',
    '/services?namespace=shop',
    '/services?namespace=shop&environment=prod&q=cart&sort=-p99',
    '/services?from=now-15m',
    '/services?from=now-7d&to=now',
    '/services?from=2024-03-01T10:00:00Z&to=2024-03-01T11:30:00Z',
    '/services?from=garbage',
  ])('%s: the page asks for exactly what was prefetched', async (url) => {
    const prefetched = await prefetchKeys(url, NOW);
    const page = pageKeys(url, NOW);
    expect(prefetched.length).toBeGreaterThan(0);
    expect(page.filter((k) => !prefetched.includes(k))).toEqual([WEEK]);
    expect(prefetched.filter((k) => !page.includes(k))).toEqual([]);
  });

  it.each([
    ['/services/checkout', 'checkout'],
    ['/services/a%2Fb?from=now-15m', 'a/b'],
    ['/services/caf%C3%A9?from=2024-03-01T10:00:00Z&to=2024-03-01T11:30:00Z', 'café'],
  ])('%s: the service page asks for exactly what was prefetched', async (url, name) => {
    const prefetched = await prefetchKeys(url, NOW);
    const page = pageKeys(url, NOW);
    const { from, to } = Object.fromEntries(new URL(url, 'http://ui.test').searchParams);
    const r = resolve(parseRange(from ?? null, to ?? null).range, NOW);
    // The slowest traces wait for the service's p99 (from its figures): not known in advance.
    const slow = hashKey(['/traces', { start: String(r.startMs), end: String(r.endMs), service: name, limit: 50 }]);
    expect(prefetched.length).toBe(Object.keys(serviceQueries(name, r)).length);
    expect(page.filter((k) => !prefetched.includes(k))).toEqual([slow]);
    expect(prefetched.filter((k) => !page.includes(k))).toEqual([]);
  });

  it('sends one request per distinct query, the rows first, over the window resolved at now', async () => {
    await prefetchKeys('/services', NOW);
    const window = `start=${END - HOUR}&end=${END}`;
    expect(requested).toEqual([`/api/v1/services?${window}&limit=1000`, `/api/v1/services/series?${window}&points=30&limit=1000`]);
    requested = [];
    await prefetchKeys('/services?namespace=shop', NOW);
    expect(requested).toEqual([
      `/api/v1/services?${window}&namespace=shop&limit=1000`,
      `/api/v1/services?${window}&limit=1000`,
      `/api/v1/services/series?${window}&namespace=shop&points=30&limit=1000`,
    ]);
  });

  it('asks for nothing after the rows when they fail (the page shows the error, and asks for no more either)', async () => {
    vi.stubGlobal('fetch', (url: string) => {
      requested.push(url);
      return Promise.resolve(new Response('{"error":{"code":"BAD_REQUEST","message":"no"}}', { status: 400 }));
    });
    await prefetchKeys('/services', NOW);
    expect(requested).toEqual([`/api/v1/services?start=${END - HOUR}&end=${END}&limit=1000`]);
  });

  it('a prefetch at another second would miss: the page must be handed the prefetch’s now', async () => {
    // Why main.tsx passes its `now` to the time provider: one second later is another window, another key.
    const prefetched = await prefetchKeys('/services', NOW);
    const page = pageKeys('/services', NOW + 1000);
    expect(page.filter((k) => prefetched.includes(k))).toEqual([]);
  });
});
