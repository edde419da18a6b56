/**
 * Snapshots of the log SQL added for the UI (span filter, facets, surrounding lines), and the guarantee that
 * what a user typed is only ever a bound parameter. (query/sql/builders.test.ts covers search and histogram.)
 */
import { describe, expect, it } from 'vitest';
import type { Sql } from '#storage/sql.ts';
import { logContextSql, logCountSql, logFacetsSql, logSearchSql } from './logs.ts';

const EVIL = "x'); DROP TABLE otel.otel_logs; --";
const range = { startNs: 1_700_000_000_000_000_000n, endNs: 1_700_003_600_000_000_000n };

function rendered(q: Sql) {
  const r = q.render();
  expect(r.text).not.toContain(EVIL);
  expect(r.text).not.toContain('DROP TABLE');
  return r;
}

describe('log search SQL', () => {
  it('binds the span id beside the trace id', () => {
    const r = rendered(logSearchSql('otel', { range, traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), attrs: [], limit: 10 }));
    expect(r.text).toContain('SpanId = {');
    expect(Object.values(r.params)).toEqual(expect.arrayContaining(['a'.repeat(32), 'b'.repeat(16)]));
  });
});

describe('log facets SQL', () => {
  it('counts four fields in one scan with grouping sets, top n per field', () => {
    const r = rendered(logFacetsSql('otel', { range, service: EVIL, attrs: [{ key: EVIL, value: EVIL }], q: EVIL }, 10));
    expect(r.text.match(/FROM `otel`\.`otel_logs`/g)).toHaveLength(1);
    expect(r.text).toContain('GROUPING SETS');
    expect(r.text).toContain('BY field');
    expect(Object.values(r.params)).toEqual(expect.arrayContaining([EVIL, 10]));
    expect(r).toMatchSnapshot();
  });
  it('counts the matching records with the same conditions', () => {
    expect(rendered(logCountSql('otel', { range, attrs: [], minSeverity: 13 }))).toMatchSnapshot();
  });
});

describe('log context SQL', () => {
  const base = { atNs: 1_700_000_100_000_000_001n, before: 50, after: 20, windowNs: 3_600_000_000_000n };
  it('reads a pod and container on both sides of the anchor and at it', () => {
    const r = rendered(logContextSql('otel', { ...base, source: { kind: 'pod', pod: EVIL, container: EVIL, namespace: EVIL } }));
    expect(r.text).toContain('__k8s_pod_name = {');
    expect(r.text).toContain('__k8s_container_name = {');
    expect(r.text.match(/UNION ALL/g)).toHaveLength(2);
    expect(Object.values(r.params)).toEqual(expect.arrayContaining([EVIL, 51, 21, '1700000100000000001']));
    expect(r).toMatchSnapshot();
  });
  it('reads a service when the record has no pod, and no container condition without one', () => {
    const r = rendered(logContextSql('otel', { ...base, source: { kind: 'service', service: EVIL } }));
    expect(r.text).toContain('ServiceName = {');
    expect(r.text).not.toContain('__k8s_pod_name');
    const pod = rendered(logContextSql('otel', { ...base, source: { kind: 'pod', pod: 'p' } }));
    expect(pod.text).not.toContain('__k8s_container_name');
  });
});
