/**
 * The API requests a page makes first, as URLs: what index.html's early script (./early.ts) starts before the
 * app's code has loaded. One entry per registry page with a prefetch, computed from the same pure modules as the
 * page and its prefetch (the surface's queries.ts), so the URLs are exactly the first ones the prefetch asks for
 * (early-requests.test.ts checks against the real prefetch). Only the requests a page makes at once belong here:
 * /services asks for its sparklines after its rows, so only the rows start early.
 *
 * Kept free of React, the router and the query cache: the early script is inlined in every index.html.
 */
import { type ParamValue, apiUrl } from '../shared/api/url.ts';
import { type Resolved, parseRange, resolve } from '../shared/time/range.ts';
import { readState } from '../shared/url/state.ts';
import { SERVICES_STATE, serviceQueries, servicesQueries } from '../services/queries.ts';
import { TRACE_STATE, isTraceId, traceLimit, traceRequest } from '../traces/queries.ts';
import { matchFirst } from './match.ts';

type Request = { path: string; params: Record<string, ParamValue> };

interface EarlyPage {
  /** The registry path (ui/src/shell/pages.ts). */
  path: string;
  requests: (pathParams: Record<string, string>, params: URLSearchParams, resolved: Resolved) => Request[];
}

export const EARLY_PAGES: readonly EarlyPage[] = [
  {
    path: '/services',
    requests: (_, params, resolved) => [{ path: '/services', params: servicesQueries(readState(SERVICES_STATE, params), resolved).services }],
  },
  {
    path: '/services/:name',
    requests: ({ name = '' }, _, resolved) => {
      const q = serviceQueries(name, resolved);
      return [
        { path: '/services', params: q.stats },
        { path: '/services/series', params: q.series },
        { path: '/services/operations', params: q.operations },
        { path: '/traces', params: q.errors },
      ];
    },
  },
  {
    path: '/traces/:traceId',
    requests: ({ traceId = '' }, params) => (isTraceId(traceId) ? [traceRequest(traceId, traceLimit(readState(TRACE_STATE, params)))] : []),
  },
];

/** The URLs to start for the page at `pathname` + `search`, the range resolved at `nowMs` (as main.tsx resolves it). */
export function earlyUrls(pathname: string, search: string, nowMs: number): string[] {
  const found = matchFirst(EARLY_PAGES, pathname);
  if (!found) return [];
  const params = new URLSearchParams(search);
  const resolved = resolve(parseRange(params.get('from'), params.get('to')).range, nowMs);
  return found.page.requests(found.pathParams, params, resolved).map((r) => apiUrl(r.path, r.params));
}
