/**
 * The trace view and its prefetch ask for the same trace: the keys the real page puts in a real query cache
 * (rendered once with react-dom/server: its hooks register their queries without fetching) against the keys
 * and the request the prefetch makes for the same URL.
 */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { MemoryRouter, Route, Routes } from 'react-router';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TimeProvider } from '../shared/time/context.tsx';
import { prefetchTrace } from './prefetch.ts';
import TracePage from './TracePage.tsx';

const ID = '0af7651916cd43dd8448eb211c80319c';

function pageKeys(url: string): string[] {
  const client = new QueryClient();
  renderToString(
    createElement(
      QueryClientProvider,
      { client },
      createElement(
        MemoryRouter,
        { initialEntries: [url] },
        createElement(TimeProvider, {
          nowMs: Date.UTC(2024, 2, 1),
          children: createElement(Routes, null, createElement(Route, { path: '/traces/:traceId', element: createElement(TracePage) })),
        }),
      ),
    ),
  );
  return client.getQueryCache().getAll().map((q) => q.queryHash);
}

let requested: string[];
beforeEach(() => {
  requested = [];
  // A stand-in for the network (this is a unit test in Node): records what the prefetch asks the API for.
  vi.stubGlobal('fetch', (url: string) => {
    requested.push(url);
    return Promise.resolve(new Response('{}', { headers: { 'content-type': 'application/json' } }));
  });
});
afterEach(() => vi.unstubAllGlobals());

function prefetchKeys(url: string): string[] {
  const client = new QueryClient();
  const { pathname, search } = new URL(url, 'http://ui.test');
  void prefetchTrace(client, decodeURIComponent(pathname.split('/')[2]!), new URLSearchParams(search));
  return client.getQueryCache().getAll().map((q) => q.queryHash);
}

describe('the trace view and its prefetch', () => {
  it.each([
    `/traces/${ID}`,
    `/traces/${ID.toUpperCase()}`,
    `/traces/${ID}?span=00f067aa0ba902b7&q=cart&collapsed=a,b`,
    `/traces/${ID}?limit=50000`,
    `/traces/${ID}?limit=10000`,
    `/traces/${ID}?limit=garbage`,
    `/traces/${ID}?from=now-15m&to=now`,
  ])('%s: the page asks for exactly what was prefetched', (url) => {
    const prefetched = prefetchKeys(url);
    expect(prefetched).toHaveLength(1);
    // The page's other query, the trace's log records, waits for the trace (its window is the trace's time).
    expect(pageKeys(url).filter((k) => !k.startsWith('["/logs"'))).toEqual(prefetched);
  });

  it('asks for the compact trace, with a limit only when the URL sets another than the default', () => {
    prefetchKeys(`/traces/${ID}`);
    prefetchKeys(`/traces/${ID}?limit=50000`);
    expect(requested).toEqual([`/api/v1/traces/${ID}?shape=compact`, `/api/v1/traces/${ID}?limit=50000&shape=compact`]);
  });

  it('prefetches nothing for a malformed id (the page says it is not a trace id)', () => {
    expect(prefetchKeys('/traces/not-a-trace')).toEqual([]);
    expect(requested).toEqual([]);
  });
});
