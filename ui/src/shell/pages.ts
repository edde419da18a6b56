/**
 * The page registry: the one place a surface registers (path, navigation label and shortcut, page code, and
 * what the page will fetch). The router, the header navigation and the `g <key>` shortcuts are built from it;
 * pages load on demand, so the first page loads only its own code. The server serves index.html on these paths
 * (query/ui.ts keeps the same list; test/e2e/ui-routes.test.ts checks they agree). Topology, dashboards, events
 * and HA register here next.
 *
 * A page's data should not wait for its code: on arrival (the first load and every navigation, ./prefetch.ts)
 * the shell starts loading the page's chunk and calls its `prefetch`, which starts the page's queries with the
 * very keys the page will ask for (the page and its prefetch share one pure module that computes them, with a
 * test that they agree, e.g. ui/src/services/queries.ts). The page then finds its data in flight or answered.
 */
import type { QueryClient } from '@tanstack/react-query';
import { type ComponentType, createElement, lazy, useState } from 'react';
import { prefetchService, prefetchServices } from '../services/prefetch.ts';
import { prefetchTrace } from '../traces/prefetch.ts';
import type { Resolved } from '../shared/time/range.ts';

/** Where a page is being opened: what its prefetch computes its queries from. */
export interface PageArrival {
  /** The path's parameters (`:name` of /services/:name), decoded. */
  pathParams: Readonly<Record<string, string | undefined>>;
  /** The query string: the page's URL state and the shared time range. */
  params: URLSearchParams;
  /** The shared time range, resolved once for this view (the time provider hands the page the same). */
  resolved: Resolved;
}

export interface PageDef {
  /** react-router path. */
  path: string;
  /** Header navigation entry, for the top page of a surface. */
  nav?: { label: string; key: string };
  /** Loads the page's code (its chunk); `component` renders it. Called early on arrival, so both overlap the data. */
  load: () => Promise<{ default: ComponentType }>;
  component: ComponentType;
  /**
   * Starts the page's queries before its code has arrived; the same keys as the page's own, or it is wasted.
   * Settles when they have; never rejects (a failure is in the cache, for the page to show).
   */
  prefetch?: (client: QueryClient, at: PageArrival) => Promise<void>;
}

/**
 * React.lazy, except that a page whose chunk has already loaded (the shell starts loading it on arrival, and
 * main.tsx waits for the first page's before the first render) renders at once instead of suspending: once React
 * has shown a Suspense fallback it keeps it at least 300 ms (it throttles reveals), which on a first load held
 * the page back ~300 ms after its code was there. Each mounted page keeps the form it started with (switching
 * would remount it).
 */
function page(def: Omit<PageDef, 'component'>): PageDef {
  let loaded: ComponentType | undefined;
  const load = () =>
    def.load().then((m) => {
      loaded = m.default;
      return m;
    });
  const Lazy = lazy(load);
  function Page() {
    const [Component] = useState<ComponentType>(() => loaded ?? Lazy);
    return createElement(Component);
  }
  return { ...def, load, component: Page };
}

export const PAGES: readonly PageDef[] = [
  page({
    path: '/services',
    nav: { label: 'Services', key: 's' },
    load: () => import('../services/ServicesPage.tsx'),
    prefetch: (client, at) => prefetchServices(client, at.params, at.resolved),
  }),
  page({
    path: '/services/:name',
    load: () => import('../services/ServicePage.tsx'),
    prefetch: (client, at) => prefetchService(client, at.pathParams['name'] ?? '', at.resolved),
  }),
  page({ path: '/traces', nav: { label: 'Traces', key: 't' }, load: () => import('../traces/TracesPage.tsx') }),
  page({
    path: '/traces/:traceId',
    load: () => import('../traces/TracePage.tsx'),
    prefetch: (client, at) => prefetchTrace(client, at.pathParams['traceId'] ?? '', at.params),
  }),
  page({ path: '/logs', nav: { label: 'Logs', key: 'l' }, load: () => import('../logs/LogsPage.tsx') }),
  page({ path: '/explore', nav: { label: 'Explore', key: 'e' }, load: () => import('../explore/ExplorePage.tsx') }),
];

export { HOME } from './match.ts';
