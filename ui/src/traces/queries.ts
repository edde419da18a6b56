/**
 * What the trace view asks the API for, from its URL state: shared by the page (TracePage.tsx) and its prefetch
 * (./prefetch.ts), which runs before the page's code has loaded, so both use one cache entry. Pure.
 */
import { integer, text } from '../shared/url/state.ts';

/** The trace view's URL state: the open span, the search in the trace, collapsed span ids, spans to load. */
export const TRACE_STATE = { span: text(), q: text(), collapsed: text(), limit: integer(10_000, 1, 50_000) };

/** The `limit` to send: none for the API's default (10,000), so the default view and a link without it share a key. */
export function traceLimit(state: { limit: number }): number | undefined {
  return state.limit === 10_000 ? undefined : state.limit;
}

/** A trace id the API can look up (32 hex digits); the page asks for nothing otherwise. */
export function isTraceId(traceId: string): boolean {
  return /^[0-9a-fA-F]{32}$/.test(traceId);
}

/** GET /api/v1/traces/{traceId} in the compact shape, as the view (and the early script) request it. */
export function traceRequest(traceId: string, limit: number | undefined): { path: string; params: { limit: number | undefined; shape: 'compact' } } {
  return { path: `/traces/${encodeURIComponent(traceId)}`, params: { limit, shape: 'compact' } };
}
