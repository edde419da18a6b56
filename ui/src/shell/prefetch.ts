/**
 * Arrival at a page: the page's chunk starts loading and its prefetch starts its queries, both at once, so the
 * data does not wait for the code (the code used to come first: the entry, then the lazy chunk, then the page's
 * hooks). Called by main.tsx before the first render (with the time it resolved the range at, which it hands the
 * time provider too) and by the shell on every later navigation. Part of the entry: no react-router here.
 */
import type { QueryClient } from '@tanstack/react-query';
import type { Resolved } from '../shared/time/range.ts';
import { HOME, PAGES, type PageDef } from './pages.ts';

/**
 * `pathname` against a registry path (`/services`, `/services/:name`): its decoded parameters, or undefined.
 * The registry's paths are literal segments and `:param`s only; react-router matches them the same way (the
 * test compares), and this runs in the entry, before react-router has loaded.
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

/** The registered page at `pathname` (`/` is the home page, where it redirects) and its path's parameters. */
export function pageAt(pathname: string): { page: PageDef; pathParams: Record<string, string> } | undefined {
  const path = pathname === '/' ? HOME : pathname;
  for (const page of PAGES) {
    const params = matchPage(page.path, path);
    if (params) return { page, pathParams: params };
  }
  return undefined;
}

/** Starts the page's queries and its code; settles when the code has loaded or failed to (the page reports that). */
export function arrive(client: QueryClient, pathname: string, search: string, resolved: Resolved): Promise<void> {
  const found = pageAt(pathname);
  if (!found) return Promise.resolve();
  void found.page.prefetch?.(client, { pathParams: found.pathParams, params: new URLSearchParams(search), resolved });
  // A failed load is the page's to report: its lazy component makes the import itself and shows the error.
  return found.page.load().then(
    () => undefined,
    () => undefined,
  );
}
