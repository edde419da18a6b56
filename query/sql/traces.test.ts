/**
 * Snapshots of the trace SQL added for the UI (the search's cursor, the scatter), and the guarantee that what
 * a user typed is only ever a bound parameter. (query/sql/builders.test.ts covers the search without a cursor.)
 */
import { describe, expect, it } from 'vitest';
import type { Sql } from '#storage/sql.ts';
import { traceEventsSql, traceResourcesSql, traceScatterSql, traceSearchSql, traceSpansCompactSql } from './traces.ts';

const EVIL = "x'); DROP TABLE otel.otel_traces; --";
const range = { startNs: 1_700_000_000_000_000_000n, endNs: 1_700_003_600_000_000_000n };

function rendered(q: Sql) {
  const r = q.render();
  expect(r.text).not.toContain(EVIL);
  expect(r.text).not.toContain('DROP TABLE');
  return r;
}

describe('trace search SQL', () => {
  it('continues strictly below the cursor, ordered by matching time then id', () => {
    const r = rendered(traceSearchSql('otel', { range, service: EVIL, attrs: [], limit: 20, cursor: { tsNs: 1_700_000_100_000_000_001n, traceId: 'ab'.repeat(16) } }));
    expect(r.text).toContain('HAVING m <');
    expect(r.text).toContain('ORDER BY m DESC, TraceId DESC');
    expect(Object.values(r.params)).toEqual(expect.arrayContaining([EVIL, '1700000100000000001', 'ab'.repeat(16), 21]));
    expect(r).toMatchSnapshot();
  });
});

describe('trace scatter SQL', () => {
  it('plots root spans when neither service nor operation is given', () => {
    const r = rendered(traceScatterSql('otel', { range, attrs: [{ key: EVIL, value: EVIL }], status: 'Error' }, 2000));
    expect(r.text).toContain("ParentSpanId = ''");
    expect(r.text).toContain('ORDER BY cityHash64(SpanId)');
    expect(r).toMatchSnapshot();
  });
  it("plots a service's spans at any depth", () => {
    const r = rendered(traceScatterSql('otel', { range, service: EVIL, minDurationNs: 5n, attrs: [] }, 10));
    expect(r.text).not.toContain("ParentSpanId = ''");
    expect(r).toMatchSnapshot();
  });
});

describe('compact trace SQL', () => {
  it('selects raw columns and resource/scope keys, one row past the limit, the id bound', () => {
    const r = rendered(traceSpansCompactSql('otel', EVIL, 10_000));
    expect(r.text).not.toContain('CAST');
    expect(r.text).not.toMatch(/ResourceAttributes AS/);
    expect(r.text).not.toMatch(/Events\.(Timestamp|Attributes)|Links\.(TraceId|Attributes)/);
    expect(r.text).toContain('toString(cityHash64(ServiceName, ResourceAttributes)) AS resourceKey');
    expect(Object.values(r.params)).toEqual(expect.arrayContaining([EVIL, 10_001]));
    expect(r).toMatchSnapshot();
  });
  it('reads each (resource, scope) pair of the trace once, with the same keys', () => {
    const r = rendered(traceResourcesSql('otel', EVIL));
    expect(r.text).toContain('GROUP BY resourceKey, scopeKey');
    expect(r.text).toContain('toString(cityHash64(ServiceName, ResourceAttributes)) AS resourceKey');
    expect(r.text).toContain('toString(cityHash64(ScopeName, ScopeVersion)) AS scopeKey');
    expect(r).toMatchSnapshot();
  });
  it('reads events and links only of the spans that have any', () => {
    const r = rendered(traceEventsSql('otel', EVIL));
    expect(r.text).toContain('notEmpty(`Events.Name`) OR notEmpty(`Links.SpanId`)');
    expect(r).toMatchSnapshot();
  });
});
