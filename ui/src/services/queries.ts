/**
 * What /services and /services/:name ask the API for: the URL state and the queries that follow from it and the
 * resolved time range. Pure, and the one place both the pages (ServicesPage.tsx, ServicePage.tsx) and their
 * prefetches (prefetch.ts, started from the page registry before a page's code has arrived) take their
 * parameters from: a query's key is its parameters, so a prefetch computed any other way could silently miss
 * the cache and send every request twice.
 */
import type { OperationsQuery, ServiceSeriesQuery, ServicesQuery, TraceSearchQuery } from '../../../query/contract.ts';
import type { Params } from '../shared/api/url.ts';
import { type Resolved, apiRange } from '../shared/time/range.ts';
import { type StateOf, sort, text } from '../shared/url/state.ts';
import { SORT_COLUMNS } from './rows.ts';

/** The page's URL state (the shared time range is read by the time provider). */
export const SERVICES_STATE = {
  q: text(),
  namespace: text(),
  environment: text(),
  sort: sort(SORT_COLUMNS, { column: 'requestRate', desc: true }),
};

export type ServicesState = StateOf<typeof SERVICES_STATE>;

/** Services listed, at most (the table is virtualized, so a thousand rows cost what ten do). */
export const SERVICES_LIMIT = 1000;
/** Points of each row's sparkline. */
export const SPARKLINE_POINTS = 30;

/**
 * /services's queries. The rows come first, and the rest is asked for once they have arrived (`after`): the
 * embedded engine runs one query at a time, so asked at once the others could only hold the rows back, and did
 * when the sparklines' query reached it first (measured over 1M spans: the rows in 194-263 ms alone, 306-478 ms
 * behind the sparklines). On a ClickHouse server the sparklines come one rows-query later than they could.
 */
export interface ServicesQueries {
  /** The table's rows: the filters applied. */
  services: Params<ServicesQuery>;
  /** The filters' choices: every service of the range (the same key as `services` when no filter is set). */
  unfiltered: Params<ServicesQuery>;
  /** The rows' sparklines. */
  series: Params<ServiceSeriesQuery>;
}

/** Whether the queries that follow the rows may start: the rows of this window have arrived. */
export function rowsArrived(services: { isSuccess: boolean; isPlaceholderData: boolean }): boolean {
  return services.isSuccess && !services.isPlaceholderData;
}

export function servicesQueries(state: Pick<ServicesState, 'namespace' | 'environment'>, resolved: Resolved): ServicesQueries {
  const range = apiRange(resolved);
  const filters = { namespace: state.namespace || undefined, environment: state.environment || undefined };
  return {
    services: { ...range, ...filters, limit: SERVICES_LIMIT },
    unfiltered: { ...range, limit: SERVICES_LIMIT },
    series: { ...range, ...filters, points: SPARKLINE_POINTS, limit: SERVICES_LIMIT },
  };
}

export interface ServiceQueries {
  /** The service's figures. */
  stats: Params<ServicesQuery>;
  /** Its RED charts. */
  series: Params<ServiceSeriesQuery>;
  /** Its top operations. */
  operations: Params<OperationsQuery>;
  /** Its failing traces. (The slowest wait for its p99 from `stats`: not known in advance.) */
  errors: Params<TraceSearchQuery>;
}

/** /services/:name */
export function serviceQueries(name: string, resolved: Resolved): ServiceQueries {
  const range = apiRange(resolved);
  return {
    stats: { ...range, service: name, limit: 1 },
    series: { ...range, service: name, points: 120, limit: 1 },
    operations: { ...range, service: name, limit: 20 },
    errors: { ...range, service: name, status: 'Error', limit: 10 },
  };
}
