import { describe, expect, it } from 'vitest';
import { formatCount, formatDurationNs, formatPercent, formatRate } from './format.ts';

describe('formatRate', () => {
  it.each([
    [0, '0'],
    [0.004, '<0.01'],
    [0.5, '0.50'],
    [1, '1.00'],
    [12.345, '12.3'],
    [999.94, '999.9'],
    [1234, '1.2k'],
    [2_500_000, '2.5M'],
  ])('%f/s → %s', (v, s) => expect(formatRate(v)).toBe(s));
});

describe('formatPercent', () => {
  it.each([
    [0, '0%'],
    [0.0005, '<0.1%'],
    [0.05, '5.0%'],
    [0.1234, '12.3%'],
    [1, '100.0%'],
  ])('%f → %s', (v, s) => expect(formatPercent(v)).toBe(s));
});

describe('formatCount', () => {
  it.each([
    [0, '0'],
    [999, '999'],
    [1000, '1,000'],
    [1234567, '1,234,567'],
  ])('%i → %s', (v, s) => expect(formatCount(v)).toBe(s));
});

describe('formatDurationNs', () => {
  it.each([
    [null, '–'],
    [Number.NaN, '–'],
    [850, '850ns'],
    [12_345, '12.3µs'],
    [1_000_000, '1ms'],
    [50_500_000, '50.5ms'],
    [999_000_000, '999ms'],
    [1_234_000_000, '1.23s'],
    [125e9, '2m05s'],
  ])('%s ns → %s', (v, s) => expect(formatDurationNs(v)).toBe(s));
});
