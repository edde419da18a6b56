import { describe, expect, it } from 'vitest';
import { Writer, compileCodec, encoderFor } from './rowbinary.ts';

const hex = (f: (w: Writer) => void) => {
  const w = new Writer(4);
  f(w);
  return w.result().toString('hex');
};

describe('RowBinary encoding', () => {
  it('writes strings with a varint length, growing the buffer as needed', () => {
    expect(hex((w) => encoderFor('String')(w, 'ab'))).toBe('026162');
    const long = 'x'.repeat(200);
    expect(hex((w) => encoderFor('LowCardinality(String)')(w, long))).toBe('c801' + '78'.repeat(200));
    expect(hex((w) => encoderFor('String')(w, 'é✓'))).toBe('05c3a9e29c93');
  });

  it('writes DateTime64(9) and UInt64 from exact decimal strings', () => {
    expect(hex((w) => encoderFor('DateTime64(9)')(w, '1700000000123456789'))).toBe(Buffer.from(new BigInt64Array([1700000000123456789n]).buffer).toString('hex'));
    expect(hex((w) => encoderFor('UInt64')(w, '18446744073709551615'))).toBe('ffffffffffffffff');
  });

  it('writes maps as a count then key/value pairs, arrays as a count then items', () => {
    expect(hex((w) => encoderFor('Map(LowCardinality(String), String)')(w, { a: 'b' }))).toBe('0101610162');
    expect(hex((w) => encoderFor('Array(Map(LowCardinality(String), String))')(w, [{}, { k: '' }]))).toBe('0200' + '01016b00');
    expect(hex((w) => encoderFor('Array(Float64)')(w, [0.5]))).toBe('01000000000000e03f');
  });

  it('uses type defaults for missing values', () => {
    const codec = compileCodec([
      { name: 'a', type: 'String' },
      { name: 'b', type: 'UInt32' },
      { name: 'c', type: 'Map(String, String)' },
      { name: 'd', type: 'Bool' },
    ]);
    expect(codec.encode([{}]).toString('hex')).toBe('00' + '00000000' + '00' + '00');
  });

  it('refuses types it cannot encode, so a schema change fails loudly', () => {
    expect(() => encoderFor('Nullable(String)')).toThrow(/cannot encode/);
    expect(() => encoderFor('DateTime64(3)')).toThrow(/DateTime64\(9\)/);
  });
});
