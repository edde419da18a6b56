import { describe, expect, it } from 'vitest';
import { AppError } from '#core/errors.ts';
import { parseAttrFilters, parseGroupBy, parseLabelFilters, parseSeverity, parseTraceId, textTokens } from './filters.ts';

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return (err as AppError).message;
  }
  throw new Error('expected an error');
}

describe('attribute filters', () => {
  it('split at the first =', () => {
    expect(parseAttrFilters('attr', ['http.method=GET', 'q=a=b', 'empty='])).toEqual([
      { key: 'http.method', value: 'GET' },
      { key: 'q', value: 'a=b' },
      { key: 'empty', value: '' },
    ]);
  });
  it('need a key and an =', () => {
    expect(message(() => parseAttrFilters('attr', ['novalue']))).toContain('querystring/attr must be key=value');
    expect(message(() => parseAttrFilters('attr', ['=x']))).toContain('querystring/attr');
    expect(message(() => parseAttrFilters('attr', Array.from({ length: 21 }, () => 'a=b')))).toContain('at most 20');
  });
});

describe('label filters', () => {
  it('read =, !=, =~ and !~', () => {
    expect(parseLabelFilters('filter', ['a=1', 'b!=2', 'c=~x|y', 'd!~z.*', 'e==f'])).toEqual([
      { key: 'a', op: '=', value: '1' },
      { key: 'b', op: '!=', value: '2' },
      { key: 'c', op: '=~', value: 'x|y' },
      { key: 'd', op: '!~', value: 'z.*' },
      { key: 'e', op: '=', value: '=f' },
    ]);
  });
  it('refuse a filter without an operator', () => {
    expect(message(() => parseLabelFilters('filter', ['justakey']))).toContain('querystring/filter');
  });
});

describe('groupBy', () => {
  it('is absent, empty (merge all) or a list of keys, comma-separated or repeated', () => {
    expect(parseGroupBy(undefined)).toBeUndefined();
    expect(parseGroupBy([''])).toEqual([]);
    expect(parseGroupBy(['a,b', 'c', 'a'])).toEqual(['a', 'b', 'c']);
  });
});

describe('severity', () => {
  it('is a number 1-24 or a level name', () => {
    expect(parseSeverity('17')).toBe(17);
    expect(parseSeverity('warn')).toBe(13);
    expect(parseSeverity('WARNING')).toBe(13);
    expect(parseSeverity('Fatal')).toBe(21);
    expect(parseSeverity(undefined)).toBeUndefined();
    for (const s of ['0', '25', 'loud', '1.5']) expect(message(() => parseSeverity(s)), s).toContain('querystring/severity');
  });
});

describe('trace ids', () => {
  it('are 32 hex characters, lowercased', () => {
    expect(parseTraceId('0AF7651916CD43DD8448EB211C80319C')).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(message(() => parseTraceId('0af7651916cd43dd8448eb211c80319'))).toContain('params/traceId');
    expect(message(() => parseTraceId('0af7651916cd43dd8448eb211c80319g'))).toContain('params/traceId');
  });
});

describe('textTokens', () => {
  it('splits on ASCII non-alphanumerics like ClickHouse tokens, lowercasing ASCII only', () => {
    expect(textTokens('Connection REFUSED: payments:8443!')).toEqual(['connection', 'refused', 'payments', '8443']);
    expect(textTokens('Crème ÉTÉ')).toEqual(['crème', 'ÉtÉ']); // as ClickHouse lower(): É stays
    expect(textTokens('a-a_b')).toEqual(['a', 'b']);
    expect(textTokens('!!!')).toEqual([]);
  });
});
