import { describe, expect, it } from 'vitest';
import { Bytes, compileCodec, columnKind } from './native.ts';

const hex = (b: Buffer) => b.toString('hex');
const int64Hex = (v: unknown) => {
  const b = new Bytes(1);
  b.int64(v);
  return hex(b.result());
};
const bigHex = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, v));
  return hex(b);
};

describe('Native encoding', () => {
  it('writes a block byte for byte as the engine does', () => {
    // The engine's own bytes for: SELECT toUInt8(1) AS a, 'xy' AS s, [1,2]::Array(UInt16) AS arr,
    // map('k','v')::Map(String,String) AS m, toDateTime64('2026-01-01 00:00:00', 9, 'UTC') AS t, written by chDB
    // with INSERT INTO FUNCTION file(…, Native).
    const engine =
      '05 01 01 61 05 55 49 6e 74 38 01 01 73 06 53 74 72 69 6e 67 02 78 79 03 61 72 72 0d 41 72 72 61 79 28 55 49 6e 74 31 36 29 02 00 00 00 00 00 00 00 01 00 02 00 01 6d 13 4d 61 70 28 53 74 72 69 6e 67 2c 20 53 74 72 69 6e 67 29 01 00 00 00 00 00 00 00 01 6b 01 76 01 74 14 44 61 74 65 54 69 6d 65 36 34 28 39 2c 20 27 55 54 43 27 29 00 00 fa ed 51 72 86 18';
    const codec = compileCodec([
      { name: 'a', type: 'UInt8' },
      { name: 's', type: 'String' },
      { name: 'arr', type: 'Array(UInt16)' },
      { name: 'm', type: 'Map(String, String)' },
      { name: 't', type: "DateTime64(9, 'UTC')" },
    ]);
    const out = hex(codec.encode([{ a: 1, s: 'xy', arr: [1, 2], m: { k: 'v' }, t: '1767225600000000000' }]));
    const expected = engine.replaceAll(' ', '');
    expect(out).toBe(expected);
  });

  it('declares LowCardinality columns as their inner type and Maps of them likewise', () => {
    expect(columnKind('LowCardinality(String)').nativeType).toBe('String');
    expect(columnKind('Map(LowCardinality(String), String)').nativeType).toBe('Map(String, String)');
    expect(columnKind('Array(Map(LowCardinality(String), String))').nativeType).toBe('Array(Map(String, String))');
  });

  it('writes columns one after another, arrays as end offsets then all items', () => {
    const codec = compileCodec([
      { name: 'x', type: 'Array(Array(UInt8))' },
      { name: 'y', type: 'Int32' },
    ]);
    const block = hex(codec.encode([{ x: [[1], [2, 3]], y: -1 }, { x: [], y: 2 }]));
    const head = (name: string, type: string) => hex(Buffer.from([name.length])) + hex(Buffer.from(name)) + hex(Buffer.from([type.length])) + hex(Buffer.from(type));
    expect(block).toBe(
      '0202' +
        head('x', 'Array(Array(UInt8))') +
        '0200000000000000' + '0200000000000000' + // outer end offsets: row 0 has 2 arrays, row 1 none
        '0100000000000000' + '0300000000000000' + // inner end offsets
        '010203' +
        head('y', 'Int32') +
        'ffffffff' + '02000000',
    );
  });

  it('encodes a map object shared by consecutive rows exactly as separate equal maps', () => {
    const codec = compileCodec([{ name: 'm', type: 'Map(LowCardinality(String), String)' }]);
    const shared = { 'service.name': 'cart', 'host.name': 'node-1', 'é': 'ü' };
    const rows = [{ m: shared }, { m: shared }, { m: {} }, { m: shared }, { m: shared }, { m: { a: 'b' } }, { m: shared }];
    const copies = rows.map((r) => ({ m: { ...r.m } }));
    expect(hex(codec.encode(rows))).toBe(hex(codec.encode(copies)));
    expect(hex(codec.encode(rows))).toBe(hex(codec.encode(copies))); // and again with reused builders
  });

  it('uses type defaults for missing values', () => {
    const codec = compileCodec([
      { name: 'a', type: 'String' },
      { name: 'b', type: 'UInt32' },
      { name: 'c', type: 'Map(String, String)' },
      { name: 'd', type: 'Bool' },
      { name: 'e', type: 'DateTime64(9)' },
    ]);
    const cols = hex(codec.encode([{}]));
    expect(cols).toContain(hex(Buffer.from('String')) + '00');
    expect(cols).toContain(hex(Buffer.from('UInt32')) + '00000000');
    expect(cols).toContain(hex(Buffer.from('Map(String, String)')) + '0000000000000000');
    expect(cols).toContain(hex(Buffer.from('Bool')) + '00');
    expect(cols.endsWith(hex(Buffer.from('DateTime64(9)')) + '0000000000000000')).toBe(true);
  });

  it('encodes strings as UTF-8 with a varint length, short ASCII and long or non-ASCII alike', () => {
    const enc = (s: string) => {
      const b = new Bytes(1);
      b.string(s);
      return hex(b.result());
    };
    expect(enc('ab')).toBe('026162');
    expect(enc('é✓')).toBe('05c3a9e29c93');
    expect(enc('x'.repeat(200))).toBe('c801' + '78'.repeat(200));
    expect(enc('a'.repeat(60) + 'é')).toBe('3e' + '61'.repeat(60) + 'c3a9');
    expect(enc('é'.repeat(100))).toBe('c801' + 'c3a9'.repeat(100));
  });

  it('encodes 64-bit integers exactly from decimal strings, numbers and bigints', () => {
    const cases: bigint[] = [0n, 1n, -1n, 4294967295n, 4294967296n, 1700000000123456789n, 9999999999999999999n, 18446744073709551615n, -9223372036854775808n, 999999999999999n, 1000000000000000n];
    let x = 0x9e3779b97f4a7c15n;
    for (let i = 0; i < 2000; i++) {
      x = BigInt.asUintN(64, x * 6364136223846793005n + 1442695040888963407n);
      cases.push(x >> BigInt(i % 64));
    }
    for (const v of cases) expect(int64Hex(v.toString()), v.toString()).toBe(bigHex(v));
    expect(int64Hex(-5)).toBe(bigHex(-5n));
    expect(int64Hex(2 ** 53 - 1)).toBe(bigHex(2n ** 53n - 1n));
    expect(int64Hex(123n)).toBe(bigHex(123n));
    expect(int64Hex('')).toBe(bigHex(0n));
    expect(int64Hex(undefined)).toBe(bigHex(0n));
  });

  it('refuses types it cannot encode, so a schema change fails loudly', () => {
    expect(() => columnKind('Nullable(String)')).toThrow(/cannot encode/);
    expect(() => columnKind('DateTime64(3)')).toThrow(/DateTime64\(9\)/);
  });
});
