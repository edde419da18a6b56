/**
 * The services pages' prefetches, registered in the page registry (ui/src/shell/pages.ts): called on arrival at
 * the page, before its code has arrived, they start the very queries the page will make (the same options
 * builders as its hooks, the same parameters from ./queries.ts), so the page finds them in flight or answered.
 */
import type { QueryClient } from '@tanstack/react-query';
import { useOperations, useServiceSeries, useServices, useTraceSearch } from '../shared/api/hooks.ts';
import type { Resolved } from '../shared/time/range.ts';
import { readState } from '../shared/url/state.ts';
import { SERVICES_STATE, serviceQueries, servicesQueries } from './queries.ts';

/** /services: the table's rows (and the filters' choices: the same request without a filter) and sparklines. */
export function prefetchServices(client: QueryClient, params: URLSearchParams, resolved: Resolved): void {
  const q = servicesQueries(readState(SERVICES_STATE, params), resolved);
  void client.prefetchQuery(useServices.options(q.services));
  void client.prefetchQuery(useServices.options(q.unfiltered));
  void client.prefetchQuery(useServiceSeries.options(q.series));
}

/** /services/:name: the service's figures, charts, operations and failing traces. */
export function prefetchService(client: QueryClient, name: string, resolved: Resolved): void {
  const q = serviceQueries(name, resolved);
  void client.prefetchQuery(useServices.options(q.stats));
  void client.prefetchQuery(useServiceSeries.options(q.series));
  void client.prefetchQuery(useOperations.options(q.operations));
  void client.prefetchQuery(useTraceSearch.options(q.errors));
}
