import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RANGE,
  type TimeRange,
  describeRange,
  formatDuration,
  formatRange,
  parseDuration,
  parseRange,
  parseRefresh,
  resolve,
  zoom,
  zoomOut,
} from './range.ts';

const T = Date.UTC(2024, 2, 1, 14, 0, 0); // 2024-03-01T14:00:00Z
const rel = (text: string, ms: number): TimeRange => ({ kind: 'relative', text, ms });

describe('parseDuration / formatDuration', () => {
  it.each([
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['7d', 604_800_000],
    ['2w', 1_209_600_000],
    ['90s', 90_000],
    ['0m', undefined],
    ['15', undefined],
    ['1.5h', undefined],
    ['-5m', undefined],
    ['', undefined],
    ['5 m', undefined],
  ])('%s → %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each([
    [300_000, '5m'],
    [5_400_000, '1h30m'],
    [90_000, '1m30s'],
    [86_400_000 * 2, '2d'],
    [0, '0s'],
  ])('%i ms → %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});

describe('parseRange', () => {
  it.each<[string | null, string | null, TimeRange]>([
    [null, null, DEFAULT_RANGE],
    ['now-15m', null, rel('15m', 900_000)],
    ['now-15m', 'now', rel('15m', 900_000)],
    ['now-90m', 'now', rel('1h30m', 5_400_000)],
    ['now-7d', null, rel('7d', 604_800_000)],
    ['2024-03-01T13:00:00Z', '2024-03-01T14:00:00Z', { kind: 'absolute', fromMs: T - 3_600_000, toMs: T }],
    ['2024-03-01T15:00:00.500+01:00', '2024-03-01T14:30:00Z', { kind: 'absolute', fromMs: T + 500, toMs: T + 1_800_000 }],
    [String(T - 60_000), String(T), { kind: 'absolute', fromMs: T - 60_000, toMs: T }],
  ])('from=%s to=%s', (from, to, range) => {
    expect(parseRange(from, to)).toEqual({ range });
  });

  it.each([
    ['now-banana', null, 'not a duration'],
    ['now-400d', null, 'not a duration'],
    ['yesterday', 'now', 'not readable'],
    ['2024-03-01T14:00:00Z', null, 'not readable'],
    ['2024-03-01T14:00:00Z', '2024-03-01T13:00:00Z', 'ends before it starts'],
    ['2022-01-01T00:00:00Z', '2024-03-01T13:00:00Z', 'longer than 366 days'],
    ['2024-02-30T14:00:00', '2024-03-01T13:00:00Z', 'not readable'],
  ])('from=%s to=%s falls back to the default and says why', (from, to, why) => {
    const r = parseRange(from, to);
    expect(r.range).toEqual(DEFAULT_RANGE);
    expect(r.error).toContain(why);
  });

  it.each<TimeRange>([rel('15m', 900_000), rel('7d', 604_800_000), { kind: 'absolute', fromMs: T - 1234, toMs: T }, DEFAULT_RANGE])(
    'round-trips through the URL: %j',
    (range) => {
      const { from, to } = formatRange(range);
      expect(parseRange(from, to).range).toEqual(range);
    },
  );

  it('leaves the default out of URLs', () => {
    expect(formatRange(DEFAULT_RANGE)).toEqual({ from: null, to: null });
    expect(formatRange(rel('5m', 300_000))).toEqual({ from: 'now-5m', to: null });
  });
});

describe('resolve', () => {
  it.each<[TimeRange, number, { startMs: number; endMs: number }]>([
    [rel('15m', 900_000), T, { startMs: T - 900_000, endMs: T }],
    [rel('15m', 900_000), T + 999, { startMs: T - 900_000, endMs: T }], // to the second: refreshes within one agree
    [{ kind: 'absolute', fromMs: 1, toMs: 2 }, T, { startMs: 1, endMs: 2 }],
  ])('%j at %i', (range, now, resolved) => expect(resolve(range, now)).toEqual(resolved));
});

describe('zoom', () => {
  const shown = { startMs: T - 3_600_000, endMs: T };
  it.each([
    ['a drag to the right', T - 1_800_000, T - 600_000, { kind: 'absolute', fromMs: T - 1_800_000, toMs: T - 600_000 }],
    ['a drag to the left', T - 600_000, T - 1_800_000, { kind: 'absolute', fromMs: T - 1_800_000, toMs: T - 600_000 }],
    ['a drag past the window', T - 7_200_000, T + 60_000, { kind: 'absolute', fromMs: T - 3_600_000, toMs: T }],
    ['a click', T - 600_000, T - 600_500, undefined],
  ])('%s', (_what, a, b, expected) => expect(zoom(shown, a, b)).toEqual(expected));

  it('zooms out to twice the width around the middle, never past now', () => {
    expect(zoomOut({ startMs: T - 2_000, endMs: T - 1_000 }, T)).toEqual({ kind: 'absolute', fromMs: T - 2_500, toMs: T - 500 });
    expect(zoomOut({ startMs: T - 3_600_000, endMs: T }, T)).toEqual({ kind: 'absolute', fromMs: T - 7_200_000, toMs: T });
  });
});

describe('describeRange', () => {
  it.each<[TimeRange, string]>([
    [rel('15m', 900_000), 'Last 15 minutes'],
    [rel('1h', 3_600_000), 'Last hour'],
    [rel('7d', 604_800_000), 'Last 7 days'],
    [rel('1h30m', 5_400_000), 'Last 1h30m'],
  ])('%j → %s', (range, text) => expect(describeRange(range)).toBe(text));

  it('writes an absolute range in local time, the date once when it is one day', () => {
    const from = new Date(2024, 2, 1, 13, 0, 0).getTime();
    expect(describeRange({ kind: 'absolute', fromMs: from, toMs: from + 3_600_000 })).toBe('2024-03-01 13:00:00 → 14:00:00');
    expect(describeRange({ kind: 'absolute', fromMs: from, toMs: from + 86_400_000 })).toBe('2024-03-01 13:00:00 → 2024-03-02 13:00:00');
  });
});

describe('parseRefresh', () => {
  it.each([
    [null, undefined],
    ['off', undefined],
    ['30s', 30_000],
    ['1m', 60_000],
    ['1s', undefined],
    ['soon', undefined],
  ])('%s → %s', (text, ms) => expect(parseRefresh(text)).toBe(ms));
});
