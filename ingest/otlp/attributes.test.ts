/**
 * The exporter's string form of AnyValue (pdata `Value.AsString()`, opentelemetry-collector pdata/pcommon/value.go).
 * Expected strings marked "pdata" are taken from pdata's own TestValueAsString cases.
 */
import { describe, expect, it } from 'vitest';
import {
  BytesValue,
  IntValue,
  compareCodePoints,
  decodeBase64,
  encodeBase64,
  formatDouble,
  marshalArray,
  marshalMap,
  quote,
  rawAsString,
  setAttr,
  type RawMap,
  type RawValue,
} from './attributes.ts';
import type { Attrs } from './rows.ts';

describe('formatDouble (float64AsString)', () => {
  it.each([
    [1.61803399, '1.61803399'], // pdata
    [0.000000009, '9e-9'], // pdata
    [Infinity, 'json: unsupported value: +Inf'], // pdata
    [-Infinity, 'json: unsupported value: -Inf'],
    [NaN, 'json: unsupported value: NaN'],
    [0.1, '0.1'],
    [0, '0'],
    [-0, '-0'],
    [-1.5, '-1.5'],
    [1e20, '100000000000000000000'],
    [1e21, '1e+21'],
    [123456789012345680000, '123456789012345680000'],
    [0.000001, '0.000001'],
    [0.0000015, '0.0000015'],
    [1e-7, '1e-7'],
    [1.5e-10, '1.5e-10'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [5e-324, '5e-324'],
    [2 ** 53 + 2, '9007199254740994'],
  ])('formats %s as %s', (v, want) => {
    expect(formatDouble(v)).toBe(want);
  });
});

describe('json.Marshal of arrays and kvlists', () => {
  // pdata's generateTestValueMap / generateTestValueSlice.
  const pdataMap: RawMap = new Map<string, RawValue>([
    ['strKey', 'strVal'],
    ['intKey', new IntValue('7')],
    ['floatKey', 18.6],
    ['boolKey', false],
    ['nullKey', null],
    ['mapKey', new Map<string, RawValue>([['keyOne', 'valOne'], ['keyTwo', 'valTwo']])],
    ['arrKey', ['strOne', 'strTwo']],
  ]);

  it('matches pdata for its map and slice test values', () => {
    expect(marshalMap(pdataMap)).toBe(
      '{"arrKey":["strOne","strTwo"],"boolKey":false,"floatKey":18.6,"intKey":7,"mapKey":{"keyOne":"valOne","keyTwo":"valTwo"},"nullKey":null,"strKey":"strVal"}',
    );
    expect(marshalArray(['strVal', new IntValue('7'), 18.6, false, null])).toBe('["strVal",7,18.6,false,null]');
    expect(marshalMap(new Map())).toBe('{}');
    expect(marshalArray([])).toBe('[]');
  });

  it('writes raw values: exact int64, base64 bytes, exponent doubles', () => {
    expect(marshalArray([new IntValue('-9223372036854775808'), new BytesValue('AQID'), 1e21, 1e-7, -0])).toBe(
      '[-9223372036854775808,"AQID",1e+21,1e-7,-0]',
    );
  });

  it('is empty when a NaN or infinity makes json.Marshal fail, however deep', () => {
    expect(marshalArray([1, NaN])).toBe('');
    expect(marshalMap(new Map<string, RawValue>([['a', [new Map<string, RawValue>([['b', Infinity]])]]]))).toBe('');
  });

  it('sorts keys by UTF-8 bytes, not UTF-16 code units', () => {
    const m: RawMap = new Map<string, RawValue>([
      ['😀', 1],
      ['\uffff', 2],
      ['a', 3],
      ['B', 4],
      ['', 5],
    ].map(([k, v]) => [k as string, new IntValue(String(v))]));
    expect(marshalMap(m)).toBe('{"":5,"B":4,"a":3,"\uffff":2,"😀":1}');
    expect(['😀', '\uffff'].sort(compareCodePoints)).toEqual(['\uffff', '😀']);
  });
});

describe('quote (encoding/json string escaping)', () => {
  it.each([
    ['plain', '"plain"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ['<tag>&', '"\\u003ctag\\u003e\\u0026"'],
    ['\b\f\n\r\t', '"\\b\\f\\n\\r\\t"'],
    ['\u0000\u001f\u007f', '"\\u0000\\u001f\u007f"'],
    ['\u2028\u2029', '"\\u2028\\u2029"'],
    ['é😀', '"é😀"'],
    ['lone \ud800 x \udc00', '"lone \\ufffd x \\ufffd"'],
  ])('quotes %j', (s, want) => {
    expect(quote(s)).toBe(want);
  });
});

describe('rawAsString', () => {
  it('gives the AsString form of every kind', () => {
    expect(rawAsString(null)).toBe('');
    expect(rawAsString('s')).toBe('s');
    expect(rawAsString(true)).toBe('true');
    expect(rawAsString(2.5)).toBe('2.5');
    expect(rawAsString(new IntValue('12'))).toBe('12');
    expect(rawAsString(new BytesValue('AQ=='))).toBe('AQ==');
    expect(rawAsString([1])).toBe('[1]');
    expect(rawAsString(new Map([['k', 'v']]))).toBe('{"k":"v"}');
  });
});

describe('base64', () => {
  const enc = (s: string) => new TextEncoder().encode(s);

  it('encodes with the standard alphabet and padding (RFC 4648 vectors)', () => {
    for (const [plain, b64] of [['', ''], ['f', 'Zg=='], ['fo', 'Zm8='], ['foo', 'Zm9v'], ['foob', 'Zm9vYg=='], ['foobar', 'Zm9vYmFy']]) {
      expect(encodeBase64(enc(plain!))).toBe(b64);
    }
    expect(encodeBase64(Uint8Array.of(0xfb, 0xff, 0xbf))).toBe('+/+/');
    expect(encodeBase64(Uint8Array.of(9, 0xfb, 0xff, 9), 1, 3)).toBe('+/8=');
  });

  it('decodes standard and URL-safe, padded or not, and rejects anything else', () => {
    expect(decodeBase64('Zm9vYg==')).toEqual(enc('foob'));
    expect(decodeBase64('Zm9vYg')).toEqual(enc('foob'));
    expect(decodeBase64('-_-_')).toEqual(Uint8Array.of(0xfb, 0xff, 0xbf));
    expect(decodeBase64('')).toEqual(new Uint8Array(0));
    for (const bad of ['Zm9vY', 'Zm9v!', 'Zm 9v', 'Zm9vYg=', '=Zm9', 'é']) expect(decodeBase64(bad)).toBeUndefined();
  });
});

describe('setAttr', () => {
  it('stores __proto__ as an own enumerable key without touching the prototype', () => {
    const attrs: Attrs = {};
    setAttr(attrs, '__proto__', 'x');
    setAttr(attrs, 'k', 'v');
    expect(Object.getPrototypeOf(attrs)).toBe(Object.prototype);
    expect(Object.entries(attrs)).toEqual([
      ['__proto__', 'x'],
      ['k', 'v'],
    ]);
  });
});
