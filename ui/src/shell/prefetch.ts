/**
 * Arrival at a page: the page's chunk starts loading and its prefetch starts its queries, both at once, so the
 * data does not wait for the code (the code used to come first: the entry, then the lazy chunk, then the page's
 * hooks). Called by main.tsx before the first render (with the time it resolved the range at, which it hands the
 * time provider too) and by the shell on every later navigation. Part of the entry: no react-router here.
 */
import type { QueryClient } from '@tanstack/react-query';
import type { Resolved } from '../shared/time/range.ts';
import { matchFirst } from './match.ts';
import { PAGES, type PageDef } from './pages.ts';

/** The registered page at `pathname` (`/` is the home page, where it redirects) and its path's parameters. */
export function pageAt(pathname: string): { page: PageDef; pathParams: Record<string, string> } | undefined {
  return matchFirst(PAGES, pathname);
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
