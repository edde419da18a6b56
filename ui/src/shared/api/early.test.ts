/** The early requests' handoff: adopted once, only by the same URL and token, only while fresh; cancellable. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { apiGet } from './client.ts';
import { ADOPT_MS, earlyNow, startEarly, takeEarly } from './early.ts';

const T = 1_700_000_000_000;
let fetched: { url: string; signal: AbortSignal | undefined; headers: Record<string, string> }[];

beforeEach(() => {
  fetched = [];
  // A stand-in for the network (a unit test in Node): records each request and answers with its own URL.
  vi.stubGlobal('fetch', (url: string, init: RequestInit = {}) => {
    fetched.push({ url, signal: init.signal ?? undefined, headers: init.headers as Record<string, string> });
    return Promise.resolve(new Response(JSON.stringify({ url, n: fetched.length })));
  });
  vi.stubGlobal('localStorage', { getItem: () => null, setItem: () => undefined, removeItem: () => undefined });
});
afterEach(() => {
  vi.unstubAllGlobals();
  delete (globalThis as Record<string, unknown>)['__crowsnestEarly'];
});

describe('startEarly / takeEarly', () => {
  it('starts each URL once, with the token apiGet would send, and hands each response over once', async () => {
    startEarly(T, 'secret', ['/api/v1/a', '/api/v1/b', '/api/v1/a']);
    expect(fetched.map((f) => f.url)).toEqual(['/api/v1/a', '/api/v1/b']);
    expect(fetched[0]!.headers).toEqual({ accept: 'application/json', authorization: 'Bearer secret' });
    expect(earlyNow()).toBe(T);
    const a = takeEarly('/api/v1/a', 'secret', undefined, T + 10);
    expect(await (await a!).json()).toEqual({ url: '/api/v1/a', n: 1 });
    expect(takeEarly('/api/v1/a', 'secret', undefined, T + 10)).toBeUndefined();
  });

  it.each([
    ['another token', 'other', T + 10],
    ['no token', undefined, T + 10],
    ['too late', 'secret', T + ADOPT_MS + 1],
  ])('is not adopted with %s, and is cancelled', (_, token, at) => {
    startEarly(T, 'secret', ['/api/v1/a']);
    expect(takeEarly('/api/v1/a', token, undefined, at)).toBeUndefined();
    expect(fetched[0]!.signal!.aborted).toBe(true);
  });

  it('the adopter’s abort cancels the early request', () => {
    startEarly(T, undefined, ['/api/v1/a']);
    const ctl = new AbortController();
    expect(takeEarly('/api/v1/a', undefined, ctl.signal, T)).toBeDefined();
    expect(fetched[0]!.signal!.aborted).toBe(false);
    ctl.abort();
    expect(fetched[0]!.signal!.aborted).toBe(true);
  });

  it('without an early script, nothing is adopted', () => {
    expect(earlyNow()).toBeUndefined();
    expect(takeEarly('/api/v1/a', undefined)).toBeUndefined();
  });
});

describe('apiGet', () => {
  it('adopts the early response for its URL instead of asking again, then asks afresh', async () => {
    startEarly(Date.now(), undefined, ['/api/v1/services?limit=5']);
    expect(await apiGet('/services', { limit: 5 })).toEqual({ url: '/api/v1/services?limit=5', n: 1 });
    expect(fetched).toHaveLength(1);
    expect(await apiGet('/services', { limit: 5 })).toEqual({ url: '/api/v1/services?limit=5', n: 2 });
    expect(fetched).toHaveLength(2);
  });
});
