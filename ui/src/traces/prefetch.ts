/**
 * The trace view's prefetch, for the page registry (ui/src/shell/pages.ts: `prefetch` of `/traces/:traceId`):
 * called on arrival, before the page's code has loaded, it starts the very query the page makes (the same
 * options, ./api.ts `traceQuery`; the same parameters, ./queries.ts), so the trace's request overlaps the
 * page's code instead of following it. The trace's log records wait for the trace (their window is its time).
 */
import type { QueryClient } from '@tanstack/react-query';
import { readState } from '../shared/url/state.ts';
import { traceQuery } from './api.ts';
import { TRACE_STATE, traceLimit } from './queries.ts';

/** Settles when the trace's query has (prefetchQuery never rejects: a failure is the page's to show). */
export async function prefetchTrace(client: QueryClient, traceId: string, params: URLSearchParams): Promise<void> {
  const q = traceQuery(traceId, traceLimit(readState(TRACE_STATE, params)));
  if (q.enabled) await client.prefetchQuery(q);
}
