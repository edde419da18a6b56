import { describe, expect, it } from 'vitest';
import { OtlpDecodeError } from './errors.ts';
import { integerText } from './json-common.ts';
import { ExactNumber, parseExact } from './json-parse.ts';

describe('parseExact', () => {
  it('reads what JSON.parse reads when numbers are safe', () => {
    const docs = [
      '{"a":[1,-2.5,3e2,0,-0,1E-3,true,false,null,"x\\u00e9\\n\\"\\\\\\/\\ud83d\\ude00"],"b":{},"c":[]}',
      ' \n\t[ {"k" : "v"} , 12 ] ',
      '"just a string"',
      '{"dup":1,"dup":2}',
      '1e400',
    ];
    for (const d of docs) expect(parseExact(d)).toStrictEqual(JSON.parse(d));
  });

  it('keeps integers a double cannot hold as their source text', () => {
    expect(parseExact('[9007199254740993, -9223372036854775808, 1.7e18, 9007199254740991, 1.5]')).toStrictEqual([
      new ExactNumber('9007199254740993'),
      new ExactNumber('-9223372036854775808'),
      new ExactNumber('1.7e18'),
      9007199254740991,
      1.5,
    ]);
  });

  it('makes "__proto__" an own property, like JSON.parse', () => {
    const v = parseExact('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__']);
  });

  it.each([
    ['{"a":1,}', /expected a property name at position 7/],
    ['[1,2', /expected ',' or '\]' at position 4/],
    ['{"a" 1}', /expected ':' at position 5/],
    ['"abc', /unterminated string at position 4/],
    ['"a\u0001"', /control character in string at position 2/],
    ['"\\x"', /invalid string escape at position 0/],
    ['01', /unexpected data after the JSON value at position 1/],
    ['-', /invalid number at position 0/],
    ['tru', /invalid literal at position 0/],
    ['', /unexpected end of input at position 0/],
    ['[1] x', /unexpected data after the JSON value at position 4/],
    ['['.repeat(600), /nesting deeper than 512/],
  ])('rejects %j', (text, message) => {
    expect(() => parseExact(text)).toThrow(OtlpDecodeError);
    expect(() => parseExact(text)).toThrow(message);
  });
});

describe('integerText', () => {
  it.each([
    ['0', '0'],
    ['-0', '0'],
    ['007', '7'],
    ['1e3', '1000'],
    ['1.5e1', '15'],
    ['1.7000000002e18', '1700000000200000000'],
    ['12.000', '12'],
    ['-1E+2', '-100'],
    ['0.0e5', '0'],
  ])('reads %s as %s', (text, want) => {
    expect(integerText(text)).toBe(want);
  });

  it.each(['1.5', '0.5', '1e-1', 'abc', '', '1e999999', '+1', '0x10'])('is undefined for %j', (text) => {
    expect(integerText(text)).toBeUndefined();
  });
});
