import { describe, expect, it } from 'vitest';
// Tests may reach across layers: the API's own list, to check the explorer offers exactly what it accepts.
import { type MetricKind as ServerKind, allowedAggs } from '../../../query/sql/metrics/catalogue.ts';
import { type MetricKind, aggsFor, defaultAgg, effectiveAgg, resultUnit } from './aggs.ts';

const KINDS: [string, MetricKind, ServerKind][] = [
  ['gauge', { type: 'gauge', temporality: 'unspecified', monotonic: false }, { type: 'gauge', temporality: 0, monotonic: false }],
  ['counter', { type: 'sum', temporality: 'cumulative', monotonic: true }, { type: 'sum', temporality: 2, monotonic: true }],
  ['delta counter', { type: 'sum', temporality: 'delta', monotonic: true }, { type: 'sum', temporality: 1, monotonic: true }],
  ['up-down counter', { type: 'sum', temporality: 'cumulative', monotonic: false }, { type: 'sum', temporality: 2, monotonic: false }],
  ['histogram', { type: 'histogram', temporality: 'cumulative', monotonic: false }, { type: 'histogram', temporality: 2, monotonic: false }],
  ['delta histogram', { type: 'histogram', temporality: 'delta', monotonic: false }, { type: 'histogram', temporality: 1, monotonic: false }],
  ['exponential histogram', { type: 'exponential_histogram', temporality: 'cumulative', monotonic: false }, { type: 'exponential_histogram', temporality: 2, monotonic: false }],
  ['summary', { type: 'summary', temporality: 'unspecified', monotonic: false }, { type: 'summary', temporality: 0, monotonic: false }],
];

describe('aggregations per kind', () => {
  it.each(KINDS)('%s: the same set the API accepts (quantile as p50…p99)', (_, ui, server) => {
    const expected = allowedAggs(server).flatMap((a) => (a === 'quantile' ? ['p50', 'p90', 'p95', 'p99'] : [a]));
    expect([...aggsFor(ui)].sort()).toEqual([...expected].sort());
  });

  it.each([
    ['gauge', 'avg'],
    ['counter', 'rate'],
    ['delta counter', 'rate'],
    ['up-down counter', 'avg'],
    ['histogram', 'p95'],
    ['exponential histogram', 'p95'],
    ['summary', 'avg'],
  ])('%s defaults to %s', (name, agg) => {
    const kind = KINDS.find((k) => k[0] === name)![1];
    expect(defaultAgg(kind)).toBe(agg);
    expect(aggsFor(kind)).toContain(agg);
  });

  it('an aggregation the kind does not allow falls back to the default', () => {
    const gauge = KINDS[0]![1];
    expect(effectiveAgg(gauge, 'rate')).toBe('avg');
    expect(effectiveAgg(gauge, 'max')).toBe('max');
    expect(effectiveAgg(gauge, undefined)).toBe('avg');
  });
});

describe('the unit of an answer', () => {
  const [gauge, counter, , , histogram] = KINDS.map((k) => k[1]);
  it.each([
    [counter!, 'rate', '{request}', '{request}/s'],
    [counter!, 'rate', 'By', 'By/s'],
    [counter!, 'rate', '1', '/s'],
    [counter!, 'increase', '{request}', '{request}'],
    [histogram!, 'p95', 'ms', 'ms'],
    [histogram!, 'avg', 's', 's'],
    [histogram!, 'rate', 's', '{observation}/s'],
    [histogram!, 'count', 's', '{observation}'],
    [gauge!, 'count', 'By', '{point}'],
    [gauge!, 'max', 'By', 'By'],
  ] as const)('%o %s of %s is in %s', (kind, agg, unit, out) => expect(resultUnit(kind, agg, unit)).toBe(out));
});
