/**
 * The services pages' prefetches, registered in the page registry (ui/src/shell/pages.ts): called on arrival at
 * the page, before its code has arrived, they start the very queries the page will make, in the page's order
 * (the same options builders as its hooks, the same parameters from ./queries.ts), so the page finds them in
 * flight or answered. Each settles when its queries have and never rejects (a failure is in the cache, for the
 * page to show).
 */
import type { QueryClient } from '@tanstack/react-query';
import { useOperations, useServiceSeries, useServices, useTraceSearch } from '../shared/api/hooks.ts';
import type { Resolved } from '../shared/time/range.ts';
import { readState } from '../shared/url/state.ts';
import { SERVICES_STATE, rowsArrived, serviceQueries, servicesQueries } from './queries.ts';

/** /services: the table's rows; then, as the page does, the filters' choices and the sparklines. */
export async function prefetchServices(client: QueryClient, params: URLSearchParams, resolved: Resolved): Promise<void> {
  const q = servicesQueries(readState(SERVICES_STATE, params), resolved);
  const rows = useServices.options(q.services);
  await client.prefetchQuery(rows);
  const state = client.getQueryState(rows.queryKey);
  if (!rowsArrived({ isSuccess: state?.status === 'success', isPlaceholderData: false })) return;
  await Promise.all([client.prefetchQuery(useServices.options(q.unfiltered)), client.prefetchQuery(useServiceSeries.options(q.series))]);
}

/** /services/:name: the service's figures, charts, operations and failing traces. */
export async function prefetchService(client: QueryClient, name: string, resolved: Resolved): Promise<void> {
  const q = serviceQueries(name, resolved);
  await Promise.all([
    client.prefetchQuery(useServices.options(q.stats)),
    client.prefetchQuery(useServiceSeries.options(q.series)),
    client.prefetchQuery(useOperations.options(q.operations)),
    client.prefetchQuery(useTraceSearch.options(q.errors)),
  ]);
}
