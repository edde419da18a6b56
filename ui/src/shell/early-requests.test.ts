/**
 * index.html's early script starts exactly requests the page's own prefetch makes first: for each address, the
 * URLs `earlyUrls` gives are the URLs the registry's real prefetch asks the API for (recorded at the network),
 * in the same `now`, before anything it asks for only later.
 */
import { QueryClient } from '@tanstack/react-query';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseRange, resolve } from '../shared/time/range.ts';
import { EARLY_PAGES, earlyUrls } from './early-requests.ts';
import { PAGES } from './pages.ts';
import { pageAt } from './prefetch.ts';

const NOW = Date.UTC(2024, 2, 1, 14, 0, 0, 789);
const TRACE = '0123456789abcdef0123456789abcdef';

let requested: string[];
/** Answers the requests made so far: until then none has an answer, so what is asked is the first wave. */
let release: () => void;
beforeEach(() => {
  requested = [];
  let open: () => void = () => undefined;
  let gate = new Promise<void>((r) => (open = r));
  release = () => {
    open();
    gate = new Promise<void>((r) => (open = r));
  };
  // A stand-in for the network (a unit test in Node): records what the prefetch asks the API for, answers when released.
  vi.stubGlobal('fetch', async (url: string) => {
    requested.push(url);
    await gate;
    return new Response('{"services":[]}', { headers: { 'content-type': 'application/json' } });
  });
});
afterEach(() => vi.unstubAllGlobals());

/** What the registry's prefetch of `url` asks for on arrival, before any of its answers is in (its first wave). */
async function firstWave(url: string): Promise<string[]> {
  const { pathname, search } = new URL(url, 'http://ui.test');
  const found = pageAt(pathname);
  const params = new URLSearchParams(search);
  const client = new QueryClient({ defaultOptions: { queries: { staleTime: 30_000, retry: false } } });
  const done = found?.page.prefetch?.(client, { pathParams: found.pathParams, params, resolved: resolve(parseRange(params.get('from'), params.get('to')).range, NOW) });
  // Nothing is answered yet: every request made by now was made without waiting for another's answer.
  await new Promise((r) => setTimeout(r, 0));
  const wave = [...requested];
  for (let i = 0; i < 5; i++) {
    release();
    await new Promise((r) => setTimeout(r, 0));
  }
  await done;
  return wave;
}

describe('earlyUrls', () => {
  it.each([
    '/',
    '/services',
    '/services?namespace=shop&environment=prod&q=cart&sort=-p99',
    '/services?from=now-15m',
    '/services?from=2024-03-01T10:00:00Z&to=2024-03-01T11:30:00Z',
    '/services?from=garbage',
    '/services/checkout',
    '/services/a%2Fb?from=now-7d',
    `/traces/${TRACE}`,
    `/traces/${TRACE}?limit=20000&span=abc`,
  ])('%s: the first requests of the page’s own prefetch', async (url) => {
    const { pathname, search } = new URL(url, 'http://ui.test');
    const early = earlyUrls(pathname, search, NOW);
    expect(early.length).toBeGreaterThan(0);
    expect(early.sort()).toEqual((await firstWave(url)).sort());
  });

  it.each(['/traces', '/traces/not-a-trace-id', '/logs', '/explore', '/nope'])('%s: nothing (no prefetch, or nothing it would ask for)', async (url) => {
    const { pathname, search } = new URL(url, 'http://ui.test');
    expect(earlyUrls(pathname, search, NOW)).toEqual([]);
    expect(await firstWave(url)).toEqual([]);
  });

  it('names registry pages only, and every page with a prefetch', () => {
    const registry = PAGES.map((p) => p.path);
    for (const p of EARLY_PAGES) expect(registry).toContain(p.path);
    expect(EARLY_PAGES.map((p) => p.path).sort()).toEqual(PAGES.filter((p) => p.prefetch).map((p) => p.path).sort());
  });
});
