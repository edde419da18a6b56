/**
 * The traces surface's server state: one TanStack Query hook per resource over the typed contract (the same
 * pattern as ui/src/shared/api/hooks.ts). Keys are the resource and its exact parameters.
 */
import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import type {
  CompactTraceResponse,
  LogSearchResponse,
  TraceScatterQuery,
  TraceScatterResponse,
  TraceSearchQuery,
  TraceSearchResponse,
} from '../../../query/contract.ts';
import { type Params, type ParamValue, apiGet } from '../shared/api/client.ts';
import { isTraceId, traceRequest } from './queries.ts';

/** GET /api/v1/traces: one page of summaries. */
export function useTracePage(params: Params<TraceSearchQuery>) {
  return useQuery({
    queryKey: ['/traces', params],
    queryFn: ({ signal }) => apiGet<TraceSearchResponse>('/traces', params as Record<string, ParamValue>, signal),
    placeholderData: keepPreviousData,
  });
}

/** GET /api/v1/traces/scatter */
export function useTraceScatter(params: Params<TraceScatterQuery>) {
  return useQuery({
    queryKey: ['/traces/scatter', params],
    queryFn: ({ signal }) => apiGet<TraceScatterResponse>('/traces/scatter', params as Record<string, ParamValue>, signal),
    placeholderData: keepPreviousData,
  });
}

/**
 * GET /api/v1/traces/{traceId}?shape=compact: a trace does not change once complete, so it stays fresh for a
 * minute. The compact shape (resources and scopes once, numeric offsets) is ~40% of the full one's bytes for a
 * large trace and parses faster; the tree reads it as is.
 */
export function useTrace(traceId: string, limit: number | undefined) {
  return useQuery(traceQuery(traceId, limit));
}

/** The trace's query: the page's hook uses it, and so does its prefetch (./prefetch.ts), so both hit one cache entry. */
export function traceQuery(traceId: string, limit: number | undefined) {
  return queryOptions({
    queryKey: ['/traces/:id', traceId, limit],
    queryFn: ({ signal }) => {
      const r = traceRequest(traceId, limit);
      return apiGet<CompactTraceResponse>(r.path, r.params, signal);
    },
    staleTime: 60_000,
    enabled: isTraceId(traceId),
  });
}

/** Most log records of one trace the view loads (one page of GET /api/v1/logs). */
export const TRACE_LOG_LIMIT = 1000;

/** GET /api/v1/logs?traceId=…: the trace's records, over its time window with a margin either side. */
export function useTraceLogs(traceId: string, window: { startMs: number; endMs: number } | undefined) {
  return useQuery({
    queryKey: ['/logs', { traceId, ...window }],
    queryFn: ({ signal }) =>
      apiGet<LogSearchResponse>('/logs', { traceId, start: String(window!.startMs), end: String(window!.endMs), limit: TRACE_LOG_LIMIT }, signal),
    enabled: window !== undefined,
    staleTime: 60_000,
  });
}

/** Services (for the filter's choices) and a service's operations. */
export { useOperations, useServices } from '../shared/api/hooks.ts';
