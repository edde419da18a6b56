/**
 * The page registry: the one place a surface registers (path, navigation label and shortcut, page component).
 * The router, the header navigation and the `g <key>` shortcuts are built from it; pages load on demand, so the
 * first page loads only its own code. The server serves index.html on these paths (query/ui.ts keeps the same
 * list; test/e2e/ui-routes.test.ts checks they agree). Topology, dashboards, events and HA register here next.
 */
import { type ComponentType, type LazyExoticComponent, lazy } from 'react';

export interface PageDef {
  /** react-router path. */
  path: string;
  /** Header navigation entry, for the top page of a surface. */
  nav?: { label: string; key: string };
  component: LazyExoticComponent<ComponentType>;
}

export const PAGES: readonly PageDef[] = [
  { path: '/services', nav: { label: 'Services', key: 's' }, component: lazy(() => import('../services/ServicesPage.tsx')) },
  { path: '/services/:name', component: lazy(() => import('../services/ServicePage.tsx')) },
  { path: '/traces', nav: { label: 'Traces', key: 't' }, component: lazy(() => import('../traces/TracesPage.tsx')) },
  { path: '/traces/:traceId', component: lazy(() => import('../traces/TracePage.tsx')) },
  { path: '/logs', nav: { label: 'Logs', key: 'l' }, component: lazy(() => import('../logs/LogsPage.tsx')) },
  { path: '/explore', nav: { label: 'Explore', key: 'e' }, component: lazy(() => import('../explore/ExplorePage.tsx')) },
];

/** Where `/` leads. */
export const HOME = '/services';
