/** Small stored traces for the tree and critical-path tests: spans by (id, parent, start ms, end ms). */
import type { CompactSpan, CompactTraceResponse } from '../../../query/contract.ts';

/** The trace's `startTimeUnixNano`: span starts count from here. */
export const T0 = 1_700_000_000_000_000_000n;

/** `[id, parent, startMs, endMs, name?]`; ids are padded to 16 hex-ish characters only when short. */
export type Row = [id: string, parent: string, startMs: number, endMs: number, name?: string];

export function span([id, parent, startMs, endMs, name]: Row): CompactSpan {
  return {
    spanId: id,
    parentSpanId: parent,
    name: name ?? `op-${id}`,
    kind: 'Internal',
    start: Math.round(startMs * 1e6),
    duration: Math.round((endMs - startMs) * 1e6),
    resource: 0,
    scope: 0,
    attributes: {},
  };
}

/** A compact trace (as GET /api/v1/traces/{id}?shape=compact answers) of one service, `svc`. */
export const spans = (rows: Row[]): CompactTraceResponse => ({
  traceId: 'ab'.repeat(16),
  startTimeUnixNano: T0.toString(),
  resources: [{ serviceName: 'svc', attributes: {} }],
  scopes: [{ name: '', version: '' }],
  spans: rows.map(span),
  truncated: false,
});
