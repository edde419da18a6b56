/**
 * The logs page's data hooks, over the typed API contract (TanStack Query for request/response resources; the
 * live tail is a stream, kept in a reducer): search pages loaded as the list scrolls (cursor paging, bounded),
 * the severity histogram, the facets, one record's surrounding lines, a record found by its key when it is
 * not on the loaded pages, and the tail.
 */
import { keepPreviousData, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useEffect, useReducer } from 'react';
import type { LogContextQuery, LogContextResponse, LogFacetsResponse, LogHistogramResponse, LogRecord, LogSearchResponse } from '../../../query/contract.ts';
import { type ParamValue, apiGet } from '../shared/api/client.ts';
import { isoFromNs, keyTimeNs, recordKey } from './record.ts';
import { initialTail, tailReducer } from './tail.ts';
import { runTail } from './tail-client.ts';
import type { apiFilters } from './view.ts';

export type Filters = ReturnType<typeof apiFilters>;
export interface Range {
  start: string;
  end: string;
}

/** Records per page of the list. */
export const PAGE_SIZE = 200;
/** Most records the list loads (50 pages); beyond, the page asks to narrow the range. */
export const MAX_LOADED = 10_000;

const p = (x: object) => x as Record<string, ParamValue>;

/** GET /api/v1/logs, newest first, next (older) page on demand. */
export function useLogSearch(range: Range, filters: Filters, enabled = true) {
  return useInfiniteQuery({
    queryKey: ['/logs', range, filters],
    queryFn: ({ pageParam, signal }) => apiGet<LogSearchResponse>('/logs', p({ ...range, ...filters, limit: PAGE_SIZE, cursor: pageParam }), signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last, pages) => (pages.length * PAGE_SIZE >= MAX_LOADED ? undefined : last.nextCursor),
    placeholderData: keepPreviousData,
    enabled,
  });
}

/** GET /api/v1/logs/histogram?by=severity */
export function useLogHistogram(range: Range, filters: Filters) {
  return useQuery({
    queryKey: ['/logs/histogram', range, filters],
    queryFn: ({ signal }) => apiGet<LogHistogramResponse>('/logs/histogram', p({ ...range, ...filters, by: 'severity' }), signal),
    placeholderData: keepPreviousData,
  });
}

/** GET /api/v1/logs/facets */
export function useLogFacets(range: Range, filters: Filters, limit = 10) {
  return useQuery({
    queryKey: ['/logs/facets', range, filters, limit],
    queryFn: ({ signal }) => apiGet<LogFacetsResponse>('/logs/facets', p({ ...range, ...filters, limit }), signal),
    placeholderData: keepPreviousData,
  });
}

/** GET /api/v1/logs/context for one record (disabled without one). */
export function useLogContext(query: LogContextQuery | undefined) {
  return useQuery({
    queryKey: ['/logs/context', query],
    queryFn: ({ signal }) => apiGet<LogContextResponse>('/logs/context', p(query!), signal),
    enabled: query !== undefined,
    placeholderData: keepPreviousData,
  });
}

/**
 * The record a link's `open=<key>` names, when it is not on the loaded pages: the records at exactly its time
 * (a nanosecond-wide search), then the one whose key matches.
 */
export function useLogByKey(key: string, enabled: boolean) {
  const ns = keyTimeNs(key);
  return useQuery({
    queryKey: ['/logs#key', key],
    queryFn: async ({ signal }): Promise<LogRecord | null> => {
      const r = await apiGet<LogSearchResponse>('/logs', { start: isoFromNs(ns! - 1n), end: isoFromNs(ns!), limit: 1000 }, signal);
      return r.logs.find((l) => recordKey(l) === key) ?? null;
    },
    enabled: enabled && ns !== undefined && ns > 0n,
    staleTime: Infinity,
  });
}

/** The live tail of the filters while `enabled`; a new filter set starts a new tail. */
export function useLiveTail(filters: Filters, enabled: boolean, cap?: number) {
  const [state, dispatch] = useReducer(tailReducer, cap, initialTail);
  const key = JSON.stringify(filters);
  useEffect(() => {
    if (!enabled) return;
    dispatch({ type: 'reset' });
    const ctl = new AbortController();
    void runTail({ params: p(JSON.parse(key) as object), dispatch, signal: ctl.signal });
    return () => ctl.abort();
  }, [key, enabled]);
  return [state, dispatch] as const;
}
