/**
 * Which page an address is, without react-router: the entry (main.tsx) and the inline early script
 * (./early.ts) both decide this before the router has loaded. Pure and dependency-free, so the early script
 * stays a few kilobytes. react-router matches the registry's paths the same way (prefetch.test.ts compares).
 */

/** Where `/` leads. */
export const HOME = '/services';

/**
 * `pathname` against a registry path (`/services`, `/services/:name`): its decoded parameters, or undefined.
 * The registry's paths are literal segments and `:param`s only.
 */
export function matchPage(pattern: string, pathname: string): Record<string, string> | undefined {
  const want = pattern.split('/').slice(1);
  const got = (pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname).split('/').slice(1);
  if (want.length !== got.length || got.includes('')) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    let g = got[i]!;
    try {
      g = decodeURIComponent(g);
    } catch {
      // A malformed escape stays as written (as react-router leaves it).
    }
    if (w.startsWith(':')) params[w.slice(1)] = g;
    else if (w.toLowerCase() !== g.toLowerCase()) return undefined;
  }
  return params;
}

/** The first of `patterns` that `pathname` is (`/` is HOME), with its parameters. */
export function matchFirst<P extends { path: string }>(patterns: readonly P[], pathname: string): { page: P; pathParams: Record<string, string> } | undefined {
  const path = pathname === '/' ? HOME : pathname;
  for (const page of patterns) {
    const params = matchPage(page.path, path);
    if (params) return { page, pathParams: params };
  }
  return undefined;
}
