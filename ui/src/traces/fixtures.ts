/** Small stored traces for the tree and critical-path tests: spans by (id, parent, start ms, end ms). */
import type { Span } from '../../../query/contract.ts';

export const T0 = 1_700_000_000_000_000_000n;

/** `[id, parent, startMs, endMs, name?]`; ids are padded to 16 hex-ish characters only when short. */
export type Row = [id: string, parent: string, startMs: number, endMs: number, name?: string];

export function span([id, parent, startMs, endMs, name]: Row): Span {
  return {
    traceId: 'ab'.repeat(16),
    spanId: id,
    parentSpanId: parent,
    traceState: '',
    name: name ?? `op-${id}`,
    kind: 'Internal',
    serviceName: 'svc',
    startTimeUnixNano: (T0 + BigInt(Math.round(startMs * 1e6))).toString(),
    startTime: '',
    durationNano: String(Math.round((endMs - startMs) * 1e6)),
    status: { code: 'Unset', message: '' },
    attributes: {},
    resource: { attributes: {} },
    scope: { name: '', version: '' },
    events: [],
    links: [],
  };
}

export const spans = (rows: Row[]): Span[] => rows.map(span);
