import { describe, expect, it } from 'vitest';
import { apiFilters, cursorStack, durationParam, validAttr, validDuration } from './search.ts';

describe('trace search state', () => {
  it.each([
    ['', true],
    ['250ms', true],
    ['1.5s', true],
    ['1m30s', true],
    ['1000000', true],
    ['fast', false],
    ['10 ms', false],
    ['-1s', false],
  ])('duration "%s" valid: %s', (s, ok) => {
    expect(validDuration(s)).toBe(ok);
  });

  it('attributes need a key', () => {
    expect([validAttr('k=v'), validAttr('k='), validAttr('=v'), validAttr('kv')]).toEqual([true, true, false, false]);
  });

  it('the cursor stack ignores anything that is not a cursor', () => {
    expect(cursorStack('')).toEqual([]);
    expect(cursorStack('abc_-1.def')).toEqual(['abc_-1', 'def']);
    expect(cursorStack('a..b.<x>')).toEqual(['a', 'b']);
  });

  it.each([
    [250_000_000, '250ms'],
    [1_234_567_890, '1.23s'],
    [12_345, '12.3us'],
    [999, '999'],
  ])('duration param of %d ns is %s', (ns, want) => {
    expect(durationParam(ns)).toBe(want);
  });

  it('sends only valid filters, and an operation only with its service', () => {
    expect(apiFilters({ service: '', operation: 'GET /', minDuration: 'fast', maxDuration: '2s', status: 'Error', attrs: ['a=b', 'bad'] })).toEqual({
      service: undefined,
      operation: undefined,
      minDuration: undefined,
      maxDuration: '2s',
      status: 'Error',
      attr: ['a=b'],
    });
  });
});
