/**
 * The histogram_quantile expression, evaluated by the embedded engine (a chDB session on a temporary directory,
 * removed afterwards: the stateless `queryBind` left a /tmp/clickhouse-embedded-* directory behind on every run)
 * against answers computed by hand with Prometheus' bucketQuantile rules.
 */
import { Session } from 'chdb';
import { afterAll, describe, expect, it } from 'vitest';
import { param, sql } from '#storage/sql.ts';
import { histogramQuantileColumns } from './quantile.ts';

const session = new Session();
afterAll(() => session.cleanup());

/** q-quantile of buckets with these finite upper bounds (+Inf is appended) and per-bucket counts. */
function quantile(q: number, finiteBounds: number[], counts: number[]): number | null {
  const { text, params } = sql`SELECT ${histogramQuantileColumns(q, 'bounds', 'counts', 'v')}
FROM (SELECT arrayPushBack(${param('Array(Float64)', finiteBounds)}, inf) AS bounds, ${param('Array(Float64)', counts)} AS counts)`.render();
  const row = JSON.parse(session.queryBind(text, params, 'JSONEachRow')) as { v: number | null };
  return row.v;
}

const BOUNDS = [1, 2, 4];

describe('histogram quantile (Prometheus histogram_quantile rules)', () => {
  it('interpolates linearly inside the bucket that reaches the rank', () => {
    // counts [2, 2, 4, 2]: cumulative [2, 4, 8, 10].
    expect(quantile(0.5, BOUNDS, [2, 2, 4, 2])).toBe(2.5); // rank 5 in (2,4]: 2 + 2 × (5-4)/4
    expect(quantile(0.1, BOUNDS, [2, 2, 4, 2])).toBe(0.5); // rank 1 in (0,1]: lower bound 0 for the first bucket
    expect(quantile(0.2, BOUNDS, [2, 2, 4, 2])).toBe(1); // rank 2 exactly fills the first bucket
    expect(quantile(0.3, BOUNDS, [2, 2, 4, 2])).toBe(1.5); // rank 3 in (1,2]: 1 + 1 × 1/2
  });

  it('answers the largest finite bound when the rank falls in the +Inf bucket', () => {
    expect(quantile(0.9, BOUNDS, [2, 2, 4, 2])).toBe(4); // rank 9 > 8
    expect(quantile(0.99, BOUNDS, [0, 0, 0, 5])).toBe(4);
  });

  it('skips empty buckets when looking for the rank but keeps them as bounds', () => {
    // counts [1, 0, 3, 0]: rank 2 lies in (2,4] whose lower bound is 2, not 1.
    expect(quantile(0.5, BOUNDS, [1, 0, 3, 0])).toBeCloseTo(2 + 2 * (1 / 3), 12);
  });

  it('returns the upper bound of a first bucket at or below zero', () => {
    expect(quantile(0.5, [-1, 0, 1], [3, 1, 0, 0])).toBe(-1);
  });

  it('is undefined (null) without observations or without a finite bucket', () => {
    expect(quantile(0.5, BOUNDS, [0, 0, 0, 0])).toBeNull();
    expect(quantile(0.5, [], [7])).toBeNull();
  });

  it('q = 1 is the top of the last non-empty finite bucket', () => {
    expect(quantile(1, BOUNDS, [2, 2, 4, 0])).toBe(4);
    expect(quantile(1, BOUNDS, [2, 2, 0, 0])).toBe(2);
  });
});
