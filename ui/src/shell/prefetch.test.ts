/**
 * The entry's page matcher (it runs before react-router has loaded) agrees with react-router's, which renders
 * the routes, on every registry path and a table of addresses; `/` is the home page.
 */
import { matchRoutes } from 'react-router';
import { describe, expect, it } from 'vitest';
import { matchPage } from './match.ts';
import { pageAt } from './prefetch.ts';
import { HOME, PAGES } from './pages.ts';

const PATHS = [
  '/services',
  '/services/',
  '/Services',
  '/services/checkout',
  '/services/a%2Fb',
  '/services/caf%C3%A9',
  '/services/checkout/extra',
  '/services/%E0%A4%A',
  '/traces',
  '/traces/0123456789abcdef0123456789abcdef',
  '/logs',
  '/logs/x',
  '/explore',
  '/nope',
  '//services',
];

describe('matchPage', () => {
  it.each(PAGES.flatMap((p) => PATHS.map((path) => [p.path, path] as const)))('%s against %s: as react-router matches', (pattern, path) => {
    // matchRoutes decodes the address as the router does before it matches.
    const expected = matchRoutes([{ path: pattern }], path)?.[0]?.params;
    expect(matchPage(pattern, path)).toEqual(expected === undefined ? undefined : { ...expected });
  });
});

describe('pageAt', () => {
  it.each([
    ['/', HOME, {}],
    ['/services', '/services', {}],
    ['/services/a%2Fb', '/services/:name', { name: 'a/b' }],
    ['/traces/abc', '/traces/:traceId', { traceId: 'abc' }],
  ])('%s is %s', (path, page, params) => {
    const found = pageAt(path);
    expect(found?.page.path).toBe(page);
    expect(found?.pathParams).toEqual(params);
  });

  it('an unknown address is no page (the shell shows its not-found state)', () => {
    expect(pageAt('/nope')).toBeUndefined();
  });
});
