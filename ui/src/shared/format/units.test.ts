import { describe, expect, it } from 'vitest';
import { describeUnit, formatNumber, formatUnit } from './units.ts';

describe('formatNumber', () => {
  it.each([
    [0, '0'],
    [1, '1'],
    [1.5, '1.5'],
    [12.345, '12.3'],
    [123.4, '123'],
    [0.001234, '0.00123'],
    [-2.5, '-2.5'],
    [1234, '1.23k'],
    [2_500_000, '2.5M'],
    [7.5e9, '7.5G'],
    [Number.NaN, '–'],
    [Infinity, '∞'],
  ])('%f → %s', (v, s) => expect(formatNumber(v)).toBe(s));
});

describe('formatUnit', () => {
  it.each([
    [1536, 'By', '1.5 KiB'],
    [1024 * 1024 * 3.25, 'By', '3.25 MiB'],
    [512, 'By', '512 B'],
    [2, 'MiBy', '2 MiB'],
    [2048, 'By/s', '2 KiB/s'],
    [0.25, 's', '250ms'],
    [1.5, 's', '1.5s'],
    [125, 's', '2m05s'],
    [12.3, 'ms', '12.3ms'],
    [850, 'us', '850µs'],
    [42, 'ns', '42ns'],
    [0, 'ms', '0s'],
    [-1.5, 's', '-1.5s'],
    [12.5, '%', '12.5%'],
    [0.42, '1', '0.42'],
    [3.5, '{request}/s', '3.5/s'],
    [1200, '{request}', '1.2k'],
    [21.5, 'Cel', '21.5 °C'],
    [7, 'widgets', '7 widgets'],
    [3, '', '3'],
    [0.5, '/s', '0.5/s'],
    [2, 's/s', '2 s/s'],
  ])('%f %s → %s', (v, unit, s) => expect(formatUnit(v, unit)).toBe(s));
});

describe('describeUnit', () => {
  it.each([
    ['By', 'bytes'],
    ['By/s', 'bytes/s'],
    ['{request}/s', 'requests/s'],
    ['{request}', 'requests'],
    ['ms', 'ms'],
    ['1', ''],
    ['/s', 'per second'],
    ['Cel', '°C'],
  ])('%s → %s', (unit, s) => expect(describeUnit(unit)).toBe(s));
});
