import { describe, expect, it } from 'vitest';
import { sparkPath } from './sparkline.ts';

describe('sparkPath', () => {
  it.each<[string, (number | null)[], number | undefined, string]>([
    ['empty', [], undefined, ''],
    ['all zero: a line along the bottom', [0, 0, 0], undefined, 'M0,20L50,20L100,20'],
    ['scaled to its own max', [0, 5, 10], undefined, 'M0,20L50,10L100,0'],
    ['scaled to a shared max', [0, 5, 10], 20, 'M0,20L50,15L100,10'],
    ['a gap breaks the line', [1, null, 1], undefined, 'M0,0M100,0'],
    ['one point in the middle', [3], undefined, 'M50,0'],
    ['all null', [null, null], undefined, ''],
  ])('%s', (_what, values, max, d) => expect(sparkPath(values, 100, 20, max)).toBe(d));
});
