import { describe, expect, it } from 'vitest';
import type { MetricSeries } from '../../../query/contract.ts';
import { PALETTE, type QueryResult, chartData, chartSelection, distinguishingKeys, labelsText, seriesRows, stats } from './series.ts';

const s = (labels: Record<string, string>, values: number[], t0 = 0, stepMs = 1000): MetricSeries => ({ labels, points: values.map((v, i) => [t0 + i * stepMs, v]) });

describe('series naming', () => {
  it.each([
    [[], []],
    [[{ ServiceName: 'api', route: '/a' }], []],
    [[{ ServiceName: 'api', route: '/a' }, { ServiceName: 'api', route: '/b' }], ['route']],
    [[{ route: '/a', pod: 'p1' }, { route: '/a' }], ['pod']],
    [[{ a: '1', b: 'x' }, { a: '2', b: 'y' }], ['a', 'b']],
  ])('%j tells apart by %j', (labels, keys) => expect(distinguishingKeys(labels)).toEqual(keys));

  it('labels as text, keys sorted and values quoted', () => {
    expect(labelsText({ z: '1', a: 'say "hi"' })).toBe('{a="say \\"hi\\"",z="1"}');
    expect(labelsText({})).toBe('{}');
  });

  it('names by the distinguishing labels, by the query when there are none, with the letter when several queries', () => {
    const a: QueryResult = { letter: 'A', title: 'rate(req)', unit: '/s', series: [s({ svc: 'x', route: '/a' }, [1]), s({ svc: 'x', route: '/b' }, [2])] };
    const b: QueryResult = { letter: 'B', title: 'avg(mem) by ()', unit: 'By', series: [s({}, [3])] };
    expect(seriesRows([a]).map((r) => [r.id, r.name])).toEqual([
      ['A{route="/a",svc="x"}', 'route=/a'],
      ['A{route="/b",svc="x"}', 'route=/b'],
    ]);
    const both = seriesRows([a, b]);
    expect(both.map((r) => r.name)).toEqual(['A: route=/a', 'A: route=/b', 'B: avg(mem) by ()']);
    expect(both.map((r) => r.color)).toEqual(PALETTE.slice(0, 3));
    expect(both[2]).toMatchObject({ unit: 'By', last: 3 });
    const lone: QueryResult = { letter: 'A', title: 'rate(req) by (route)', unit: '/s', series: [s({ route: '/a', code: '500' }, [1])] };
    expect(seriesRows([lone])[0]!.name).toBe('code=500, route=/a');
  });
});

describe('stats over the range', () => {
  it.each([
    [[], { last: null, avg: null, min: null, max: null }],
    [[5], { last: 5, avg: 5, min: 5, max: 5 }],
    [[1, 4, 2, -3], { last: -3, avg: 1, min: -3, max: 4 }],
  ])('%j', (values, expected) => expect(stats(s({}, values).points as [number, number][])).toEqual(expected));
});

describe('what the chart draws', () => {
  const many = (letter: string, n: number): QueryResult => ({ letter, title: letter, unit: '', series: Array.from({ length: n }, (_, i) => s({ i: String(i) }, [i])) });

  it('caps the chart, taking each query’s largest in turn, in the rows’ order', () => {
    const rows = seriesRows([many('A', 30), many('B', 3)]);
    const drawn = chartSelection(rows, new Set(), 8);
    expect(drawn).toHaveLength(8);
    // B's three all make it; A gives its five largest (29…25).
    expect(drawn.filter((r) => r.letter === 'B')).toHaveLength(3);
    expect(drawn.filter((r) => r.letter === 'A').map((r) => r.last)).toEqual([25, 26, 27, 28, 29]);
  });

  it('leaves out hidden series and series without points', () => {
    const rows = seriesRows([{ letter: 'A', title: 'A', unit: '', series: [s({ i: '1' }, [1]), s({ i: '2' }, [2]), s({ i: '3' }, [])] }]);
    expect(chartSelection(rows, new Set(['A{i="2"}'])).map((r) => r.id)).toEqual(['A{i="1"}']);
  });

  it('aligns series on the union of their timestamps, gaps as null', () => {
    const rows = seriesRows([{ letter: 'A', title: 'A', unit: '', series: [s({ i: '1' }, [1, 2, 3], 0), s({ i: '2' }, [7], 1000)] }]);
    const d = chartData(rows, 1000);
    expect(d.timestamps).toEqual([0, 1000, 2000]);
    expect(d.series.map((x) => x.values)).toEqual([
      [1, 2, 3],
      [null, 7, null],
    ]);
  });

  it('connects the points of a series sampled less often than the step, keeps gaps of a dense one', () => {
    const sparse = s({ i: 'sparse' }, [1, 2, 3, 4], 0, 5000); // one point every 5 steps
    const dense: MetricSeries = { labels: { i: 'dense' }, points: [[0, 1], [1000, 1], [2000, 1], [10_000, 1], [11_000, 1]] }; // a real gap
    const d = chartData(seriesRows([{ letter: 'A', title: 'A', unit: '', series: [sparse, dense] }]), 1000);
    expect(d.series.map((x) => x.connectNulls)).toEqual([true, false]);
  });
});
