import { describe, expect, it } from 'vitest';
import { type Row, T0, spans } from './fixtures.ts';
import { ancestors, buildTree, mainRoot, resourceOf, scopeOf, searchSpans, startUnixNanoOf, statusOf, visibleRows } from './tree.ts';

/** The tree as "  id" lines (two spaces per depth) with its marks: what the waterfall shows. */
function outline(rows: Row[]): string[] {
  const t = buildTree(spans(rows));
  return t.nodes.map((n) => {
    const marks = [n.missingParent !== undefined ? `missing ${n.missingParent}` : '', n.duplicate ? 'dup' : '', n.cycle ? 'cycle' : ''].filter(Boolean);
    return `${'  '.repeat(n.depth)}${n.span.spanId}${marks.length ? ` [${marks.join(', ')}]` : ''}`;
  });
}

describe('buildTree', () => {
  const cases: { name: string; rows: Row[]; want: string[] }[] = [
    { name: 'empty trace', rows: [], want: [] },
    {
      name: 'children in start order, whatever order they arrive in',
      rows: [
        ['c', 'a', 5, 8],
        ['a', '', 0, 10],
        ['b', 'a', 1, 4],
        ['d', 'b', 2, 3],
      ],
      want: ['a', '  b', '    d', '  c'],
    },
    {
      name: 'an orphan is a root-level subtree marked with its missing parent',
      rows: [
        ['a', '', 0, 10],
        ['x', 'gone', 3, 6],
        ['y', 'x', 4, 5],
      ],
      want: ['a', 'x [missing gone]', '  y'],
    },
    {
      name: 'several roots, in start order',
      rows: [
        ['r2', '', 5, 9],
        ['r1', '', 0, 4],
      ],
      want: ['r1', 'r2'],
    },
    {
      name: 'a duplicate id keeps both rows; children attach to the first',
      rows: [
        ['a', '', 0, 10],
        ['b', 'a', 1, 5],
        ['b', 'a', 1, 5],
        ['c', 'b', 2, 3],
      ],
      want: ['a', '  b', '    c', '  b [dup]'],
    },
    {
      name: 'a span that is its own parent is an orphan, not a loop',
      rows: [['s', 's', 0, 1]],
      want: ['s [missing s]'],
    },
    {
      name: 'a cycle is broken at its earliest span, which becomes a marked root',
      rows: [
        ['a', '', 0, 10],
        ['p', 'q', 2, 3],
        ['q', 'p', 1, 4],
        ['k', 'p', 2.5, 2.7],
      ],
      want: ['a', 'q [cycle]', '  p', '    k'],
    },
  ];
  it.each(cases)('$name', ({ rows, want }) => {
    expect(outline(rows)).toEqual(want);
  });

  it('relative times, duration, subtree sizes and counts', () => {
    const t = buildTree(
      spans([
        ['a', '', 10, 20],
        ['b', 'a', 12, 30], // ends after its parent
        ['o', 'nope', 0, 1],
      ]),
    );
    expect(t.nodes.map((n) => [n.span.spanId, n.startNs, n.endNs, n.size])).toEqual([
      ['o', 0, 1e6, 1],
      ['a', 10e6, 20e6, 2],
      ['b', 12e6, 30e6, 1],
    ]);
    expect(t.durationNs).toBe(30e6);
    expect(t.orphans).toBe(1);
    expect(t.nodes[mainRoot(t)!]!.span.spanId).toBe('a');
  });

  it('builds a 10,000-deep chain without overflowing the stack', () => {
    const rows: Row[] = Array.from({ length: 10_000 }, (_, i) => [`s${i}`, i === 0 ? '' : `s${i - 1}`, i, 20_000 - i]);
    const t = buildTree(spans(rows));
    expect(t.nodes).toHaveLength(10_000);
    expect(t.nodes[9999]!.depth).toBe(9999);
    expect(t.nodes[0]!.size).toBe(10_000);
    expect(ancestors(t, 9999)).toHaveLength(9999);
  });
});

describe('visibleRows', () => {
  const t = buildTree(
    spans([
      ['a', '', 0, 10],
      ['b', 'a', 1, 4],
      ['d', 'b', 2, 3],
      ['c', 'a', 5, 8],
      ['r', '', 11, 12],
    ]),
  );
  const ids = (rows: number[]) => rows.map((i) => t.nodes[i]!.span.spanId);
  it.each([
    { collapsed: [], want: ['a', 'b', 'd', 'c', 'r'] },
    { collapsed: ['b'], want: ['a', 'b', 'c', 'r'] },
    { collapsed: ['a'], want: ['a', 'r'] },
    { collapsed: ['a', 'b'], want: ['a', 'r'] },
    { collapsed: ['d', 'r'], want: ['a', 'b', 'd', 'c', 'r'] },
  ])('collapsed $collapsed', ({ collapsed, want }) => {
    expect(ids(visibleRows(t, new Set(collapsed.map((id) => t.byId.get(id)!))))).toEqual(want);
  });
});

describe('searchSpans', () => {
  const s = spans([
    ['a', '', 0, 10, 'GET /checkout'],
    ['b', 'a', 1, 4, 'SELECT cart'],
  ]);
  s.spans[1]!.attributes = { 'db.system': 'postgresql' };
  s.resources.push({ serviceName: 'cart-db', attributes: {} });
  s.spans[1]!.resource = 1;
  const t = buildTree(s);
  it.each([
    { q: '', want: [] },
    { q: 'checkout', want: ['a'] },
    { q: 'CART', want: ['b'] },
    { q: 'postgres', want: ['b'] },
    { q: 'db.system', want: ['b'] },
    { q: 'b', want: ['b'] }, // exact span id
    { q: 'nothing', want: [] },
  ])('"$q"', ({ q, want }) => {
    expect(searchSpans(t, q).map((i) => t.nodes[i]!.span.spanId)).toEqual(want);
  });
});

describe('the compact trace as the tree reads it', () => {
  const t0 = spans([
    ['a', '', 0, 10],
    ['b', 'a', 1, 4],
  ]);
  t0.resources.push({ serviceName: 'cart', attributes: { 'k8s.pod.name': 'cart-1' } });
  t0.scopes.push({ name: 'pg', version: '2' });
  t0.spans[1] = { ...t0.spans[1]!, resource: 1, scope: 1, status: { code: 'Error', message: 'boom' } };
  // A span 200 days in: its offset is past 2^53 ns, a decimal string on the wire.
  const far = (200n * 86_400_000_000_000n + 7n).toString();
  t0.spans.push({ ...t0.spans[0]!, spanId: 'z', parentSpanId: '', start: far, duration: 5 });
  const t = buildTree(t0);
  const node = (id: string) => t.nodes[t.byId.get(id)!]!;

  it('resolves services, resources and scopes by index, and an unset status', () => {
    expect([node('a').service, node('b').service]).toEqual(['svc', 'cart']);
    expect(t.services).toEqual(['cart', 'svc']);
    expect(resourceOf(t, node('b').span).attributes).toEqual({ 'k8s.pod.name': 'cart-1' });
    expect(scopeOf(t, node('b').span)).toEqual({ name: 'pg', version: '2' });
    expect(statusOf(node('a').span)).toEqual({ code: 'Unset', message: '' });
    expect(statusOf(node('b').span)).toEqual({ code: 'Error', message: 'boom' });
  });

  it('gives every span its exact start, also past 2^53 ns from the trace start', () => {
    expect(startUnixNanoOf(t, node('b'))).toBe((T0 + 1_000_000n).toString());
    expect(startUnixNanoOf(t, node('z'))).toBe((T0 + BigInt(far)).toString());
    expect(t.startUnixNano).toBe(T0);
  });
});
