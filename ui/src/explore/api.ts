/**
 * The explorer's hooks over the metrics API (query/routes/metrics.ts), in the cache like every resource: the
 * catalogue, the series of every query at once (one request per query, in parallel, each cached under its own
 * parameters, so adding query C does not refetch A and B), and the values of a label for the filter picker.
 * Query keys start with the API path, so the shared refresh (r, auto-refresh) refetches them with the rest.
 */
import { keepPreviousData, useQueries, useQuery } from '@tanstack/react-query';
import type {
  MetricCatalogQuery,
  MetricCatalogResponse,
  MetricLabelValuesQuery,
  MetricLabelValuesResponse,
  MetricSeriesQuery,
  MetricSeriesResponse,
} from '../../../query/contract.ts';
import { type Params, type ParamValue, apiGet } from '../shared/api/client.ts';

/** Most metrics the catalogue asks for (the API's maximum); the picker filters them in the browser. */
export const CATALOGUE_LIMIT = 5000;

/** GET /api/v1/metrics */
export function useMetricCatalog(params: Params<MetricCatalogQuery>) {
  return useQuery({
    queryKey: ['/metrics', params],
    queryFn: ({ signal }) => apiGet<MetricCatalogResponse>('/metrics', params as Record<string, ParamValue>, signal),
    placeholderData: keepPreviousData,
  });
}

/** GET /api/v1/metrics/query, once per query; undefined parameters (no metric yet) make no request. */
export function useMetricSeries(list: readonly (Params<MetricSeriesQuery> | undefined)[]) {
  return useQueries({
    queries: list.map((params) => ({
      queryKey: ['/metrics/query', params ?? null],
      queryFn: ({ signal }: { signal: AbortSignal }) => apiGet<MetricSeriesResponse>('/metrics/query', params, signal),
      enabled: params !== undefined,
      placeholderData: keepPreviousData,
    })),
  });
}

/** GET /api/v1/metrics/label-values, only while a picker is open. */
export function useLabelValues(params: Params<MetricLabelValuesQuery>, enabled: boolean) {
  return useQuery({
    queryKey: ['/metrics/label-values', params],
    queryFn: ({ signal }) => apiGet<MetricLabelValuesResponse>('/metrics/label-values', params as Record<string, ParamValue>, signal),
    enabled,
    placeholderData: keepPreviousData,
  });
}
