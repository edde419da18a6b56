/**
 * Critical path on small stored traces, the cases Jaeger UI's CriticalPath tests cover: sequential and
 * overlapping children, children that start before or end after their parent (skew), children wholly after
 * their parent (async), zero-length spans, nested chains, and spans that finish at the same time.
 */
import { describe, expect, it } from 'vitest';
import { criticalPath } from './critical-path.ts';
import { type Row, spans } from './fixtures.ts';
import { buildTree, mainRoot } from './tree.ts';

/** The path as [span id, start ms, end ms], earliest first. */
function path(rows: Row[]): [string, number, number][] {
  const t = buildTree(spans(rows));
  return criticalPath(t, mainRoot(t)!)
    .map((s) => [t.nodes[s.node]!.span.spanId, s.startNs / 1e6, s.endNs / 1e6] as [string, number, number])
    .reverse();
}

describe('criticalPath', () => {
  const cases: { name: string; rows: Row[]; want: [string, number, number][] }[] = [
    { name: 'a lone span is all on the path', rows: [['a', '', 0, 10]], want: [['a', 0, 10]] },
    {
      name: 'sequential children: each in turn, the parent in the gaps',
      rows: [
        ['a', '', 0, 100],
        ['b', 'a', 10, 40],
        ['c', 'a', 50, 90],
      ],
      want: [
        ['a', 0, 10],
        ['b', 10, 40],
        ['a', 40, 50],
        ['c', 50, 90],
        ['a', 90, 100],
      ],
    },
    {
      name: 'overlapping children: the last to finish, then whatever finished before it started',
      rows: [
        ['a', '', 0, 100],
        ['b', 'a', 10, 60], // overlaps c, finished before c ended but after c started: not on the path
        ['c', 'a', 30, 90],
        ['d', 'a', 5, 20], // finished before c started
      ],
      want: [
        ['a', 0, 5],
        ['d', 5, 20],
        ['a', 20, 30],
        ['c', 30, 90],
        ['a', 90, 100],
      ],
    },
    {
      name: 'a child ending after its parent is clipped to the parent end (skew or async)',
      rows: [
        ['a', '', 0, 100],
        ['b', 'a', 50, 150],
      ],
      want: [
        ['a', 0, 50],
        ['b', 50, 100],
      ],
    },
    {
      name: 'a child starting before its parent is clipped to the parent start (skew)',
      rows: [
        ['a', '', 10, 100],
        ['b', 'a', 0, 40],
      ],
      want: [
        ['b', 10, 40],
        ['a', 40, 100],
      ],
    },
    {
      name: 'a child wholly after its parent ended (fire and forget) is not on the path',
      rows: [
        ['a', '', 0, 100],
        ['b', 'a', 20, 30],
        ['late', 'a', 120, 200],
      ],
      want: [
        ['a', 0, 20],
        ['b', 20, 30],
        ['a', 30, 100],
      ],
    },
    {
      name: 'a child wholly before its parent (large skew) is not on the path',
      rows: [
        ['a', '', 100, 200],
        ['early', 'a', 0, 50],
      ],
      want: [['a', 100, 200]],
    },
    {
      name: 'nested chain: grandchildren clipped to the clipped child',
      rows: [
        ['a', '', 0, 100],
        ['b', 'a', 10, 120],
        ['c', 'b', 90, 130],
      ],
      want: [
        ['a', 0, 10],
        ['b', 10, 90],
        ['c', 90, 100],
      ],
    },
    {
      name: 'children that finish at the same time: one is taken, the other started earlier and is skipped',
      rows: [
        ['a', '', 0, 100],
        ['b', 'a', 20, 80],
        ['c', 'a', 40, 80],
      ],
      want: [
        ['a', 0, 20],
        ['b', 20, 80],
        ['a', 80, 100],
      ],
    },
    {
      name: 'back-to-back children: the earlier one ends exactly where the later starts, and both are on the path',
      rows: [
        ['a', '', 0, 100],
        ['b', 'a', 0, 50],
        ['c', 'a', 50, 100],
      ],
      want: [
        ['b', 0, 50],
        ['c', 50, 100],
      ],
    },
    {
      name: 'zero-length children do not loop and take no time',
      rows: [
        ['a', '', 0, 100],
        ['z1', 'a', 50, 50],
        ['z2', 'a', 100, 100],
      ],
      want: [['a', 0, 100]],
    },
    {
      name: 'an orphan subtree is not on the root path',
      rows: [
        ['a', '', 0, 100],
        ['o', 'missing', 10, 300],
      ],
      want: [['a', 0, 100]],
    },
  ];
  it.each(cases)('$name', ({ rows, want }) => {
    expect(path(rows)).toEqual(want);
  });

  it('walks a 10,000-span trace (deep and wide) in one pass', () => {
    const rows: Row[] = [['root', '', 0, 20_000]];
    for (let i = 0; i < 5000; i++) rows.push([`w${i}`, 'root', i * 2, i * 2 + 3]);
    for (let i = 0; i < 4999; i++) rows.push([`d${i}`, i === 0 ? 'w4999' : `d${i - 1}`, 9998 + i * 0.0001, 10_001 - i * 0.0001]);
    const p = path(rows);
    // The path covers the root's time exactly once, without gaps or overlaps.
    expect(p[0]![1]).toBe(0);
    expect(p[p.length - 1]![2]).toBe(20_000);
    for (let i = 1; i < p.length; i++) expect(p[i]![1]).toBeCloseTo(p[i - 1]![2], 6);
    // Through the deep chain: its innermost span is on the path.
    expect(p.some(([id]) => id === 'd4998')).toBe(true);
  });
});
