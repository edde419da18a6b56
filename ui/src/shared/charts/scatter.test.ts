import { describe, expect, it } from 'vitest';
import { brushed, decadeTicks, durationDomain, linearScale, logScale, timeTicks } from './scatter.ts';

describe('scales', () => {
  it('linear maps and inverts', () => {
    const s = linearScale([100, 200], [0, 50]);
    expect([s(100), s(150), s(200)]).toEqual([0, 25, 50]);
    expect(s.invert(25)).toBe(150);
    expect(linearScale([5, 5], [0, 10]).invert(3)).toBe(5); // a flat domain does not divide by zero
  });
  it('log maps decades evenly, top of the chart for the largest, and floors non-positive values', () => {
    const s = logScale([1e3, 1e9], [120, 0]);
    expect(s(1e3)).toBe(120);
    expect(s(1e6)).toBeCloseTo(60);
    expect(s(1e9)).toBeCloseTo(0);
    expect(s(0)).toBe(120);
    expect(s.invert(60)).toBeCloseTo(1e6);
  });
});

describe('durationDomain', () => {
  it.each([
    { values: [], want: [1e3, 1e9] },
    { values: [0, 0], want: [1e3, 1e9] },
    { values: [2.5e6, 40e6], want: [1e6, 1e8] },
    { values: [1e6], want: [1e6, 1e7] }, // at least a decade
    { values: [0.4, 3], want: [1, 10] },
  ])('$values', ({ values, want }) => {
    expect(durationDomain(values)).toEqual(want);
  });
});

describe('ticks', () => {
  it('a tick per decade', () => {
    expect(decadeTicks([1e3, 1e6])).toEqual([1e3, 1e4, 1e5, 1e6]);
  });
  it('time ticks at a nice step', () => {
    expect(timeTicks(0, 3_600_000, 8)).toEqual([0, 600_000, 1_200_000, 1_800_000, 2_400_000, 3_000_000, 3_600_000]);
    expect(timeTicks(1500, 6500, 8)).toEqual([2000, 3000, 4000, 5000, 6000]);
  });
});

describe('brushed', () => {
  it('turns a drag in any direction into an ordered data rectangle', () => {
    const x = linearScale([0, 1000], [0, 100]);
    const y = logScale([1e3, 1e9], [120, 0]);
    const r = brushed(x, y, { x: 80, y: 20 }, { x: 20, y: 100 });
    expect(r.x0).toBeCloseTo(200);
    expect(r.x1).toBeCloseTo(800);
    expect(r.y0).toBeCloseTo(1e4);
    expect(r.y1).toBeCloseTo(1e8);
  });
});
