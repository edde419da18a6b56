/** The services table's rows: the API's stats joined with their series, filtered by the name filter. Pure. */
import type { ServiceSeries, ServiceSeriesResponse, ServiceStats } from '../../../query/contract.ts';

export interface ServiceRow extends ServiceStats {
  series: ServiceSeries | undefined;
}

export const SORT_COLUMNS = ['serviceName', 'requestRate', 'errorRate', 'p50', 'p95', 'p99'] as const;
export type SortColumn = (typeof SORT_COLUMNS)[number];

export function serviceRows(stats: readonly ServiceStats[], series: ServiceSeriesResponse | undefined, nameFilter: string): ServiceRow[] {
  const bySeries = new Map(series?.services.map((s) => [s.serviceName, s]));
  const needle = nameFilter.trim().toLowerCase();
  return stats
    .filter((s) => needle === '' || s.serviceName.toLowerCase().includes(needle))
    .map((s) => ({ ...s, series: bySeries.get(s.serviceName) }));
}

/** The filter choices: every namespace and environment seen across the services, sorted, without blanks. */
export function choices(stats: readonly ServiceStats[] | undefined): { namespaces: string[]; environments: string[] } {
  const ns = new Set<string>();
  const env = new Set<string>();
  for (const s of stats ?? []) {
    s.namespaces.forEach((n) => ns.add(n));
    s.environments.forEach((e) => env.add(e));
  }
  return { namespaces: [...ns].sort(), environments: [...env].sort() };
}
