/**
 * One hook per API resource, over the typed contract: server state lives in TanStack Query's cache (deduplicated,
 * cancelled when a page moves on, kept on screen while a refresh loads). Query keys are the resource and its
 * exact parameters, so two components asking for the same thing share one request, and a new time window is a
 * new key. Pages never fetch by hand.
 */
import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import type {
  OperationsQuery,
  OperationsResponse,
  PipelineResponse,
  ServiceSeriesQuery,
  ServiceSeriesResponse,
  ServicesQuery,
  ServicesResponse,
  TraceSearchQuery,
  TraceSearchResponse,
} from '../../../../query/contract.ts';
import { type Params, type ParamValue, apiGet } from './client.ts';

function resource<Q, R>(path: string) {
  /** The query's key and fetch: the hook uses them, and so does a prefetch (ui/src/shell/pages.ts), so both hit one cache entry. */
  const options = (params: Params<Q>) =>
    queryOptions({
      queryKey: [path, params],
      queryFn: ({ signal }) => apiGet<R>(path, params as Record<string, ParamValue>, signal),
    });
  const hook = (params: Params<Q>, opts: { enabled?: boolean; refetchInterval?: number } = {}) =>
    useQuery({ ...options(params), placeholderData: keepPreviousData, ...opts });
  return Object.assign(hook, { options });
}

/** GET /api/v1/services */
export const useServices = resource<ServicesQuery, ServicesResponse>('/services');
/** GET /api/v1/services/series */
export const useServiceSeries = resource<ServiceSeriesQuery, ServiceSeriesResponse>('/services/series');
/** GET /api/v1/services/operations */
export const useOperations = resource<OperationsQuery, OperationsResponse>('/services/operations');
/** GET /api/v1/traces */
export const useTraceSearch = resource<TraceSearchQuery, TraceSearchResponse>('/traces');

/** GET /api/v1/pipeline, every 5 s (the header's ingest health). */
export function usePipeline() {
  return useQuery({
    queryKey: ['/pipeline'],
    queryFn: ({ signal }) => apiGet<PipelineResponse>('/pipeline', {}, signal),
    refetchInterval: 5000,
    retry: false,
  });
}
