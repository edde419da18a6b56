import { describe, expect, it } from 'vitest';
import { OtlpDecodeError } from './errors.ts';
import { concat, rawVarint, tag } from './test-pb.ts';
import { Reader, hexId, i64ToDecimal, i64ToNumber, u64DiffToDecimal, u64ToDecimal, utf8 } from './wire.ts';

const split = (v: bigint): [number, number] => [Number(v & 0xffffffffn), Number(v >> 32n)];

let seed = 7;
const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);

describe('64-bit integers as decimal strings', () => {
  const edges = [0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n,
    1_700_000_000_000_000_001n, 1_700_000_000_012_345_678n, 1_700_000_001_000_000_000n, 99_999_999_999_999_999n, 10n ** 19n];

  it('u64ToDecimal is exact for edge values and random ones (checked with BigInt)', () => {
    const values = [...edges];
    for (let i = 0; i < 20000; i++) {
      values.push((BigInt(Math.floor(random() * 2 ** 32)) << 32n) | BigInt(Math.floor(random() * 2 ** 32)));
      values.push(1_700_000_000_000_000_000n + BigInt(Math.floor(random() * 2 ** 50)));
    }
    for (const v of values) expect(u64ToDecimal(...split(v))).toBe(v.toString());
  });

  it('i64ToDecimal reads two\'s complement', () => {
    for (const v of [-1n, -(2n ** 63n), 2n ** 63n - 1n, -(2n ** 60n) - 1n, 0n, -4294967296n]) {
      expect(i64ToDecimal(...split(BigInt.asUintN(64, v)))).toBe(v.toString());
      expect(i64ToNumber(...split(BigInt.asUintN(64, v)))).toBe(Number(v));
    }
  });

  it('u64DiffToDecimal subtracts with borrow and clamps negatives to 0', () => {
    const d = (a: bigint, b: bigint) => u64DiffToDecimal(...split(a), ...split(b));
    expect(d(2n ** 32n, 1n)).toBe('4294967295');
    expect(d(1_700_000_001_000_000_000n, 1_699_999_999_999_999_999n)).toBe('1000000001');
    expect(d(2n ** 64n - 1n, 0n)).toBe('18446744073709551615');
    expect(d(5n, 6n)).toBe('0');
    expect(d(5n, 5n)).toBe('0');
  });
});

describe('Reader', () => {
  it('reads varints of every length, int32 from 10-byte negatives, zigzag sint32', () => {
    const r = new Reader(concat(rawVarint(0), rawVarint(300), rawVarint(2n ** 35n), rawVarint(-1), rawVarint(-2), rawVarint(5)));
    expect(r.u32()).toBe(0);
    expect(r.u32()).toBe(300);
    r.v64();
    expect([r.lo, r.hi]).toEqual([0, 8]);
    expect(r.i32()).toBe(-1);
    r.v64();
    expect([r.lo, r.hi]).toEqual([0xfffffffe, 0xffffffff]);
    expect(r.s32()).toBe(-3);
    expect(r.pos).toBe(r.buf.length);
  });

  it('rejects a uint32 varint above 2^32 and a length beyond its message', () => {
    expect(() => new Reader(rawVarint(2n ** 32n)).u32()).toThrow(new OtlpDecodeError('', 'varint at byte 0 does not fit in 32 bits'));
    const r = new Reader(concat(rawVarint(5), Uint8Array.of(1, 2, 3, 4, 5, 6)));
    expect(() => r.lenEnd(4)).toThrow('truncated: length 5 at byte 0 runs past the end of the enclosing message at byte 4');
  });

  it('skips unknown groups, nested, and rejects unbalanced ones', () => {
    const group = concat(tag(5, 3), tag(6, 3), rawVarint(8), rawVarint(1), tag(6, 4), tag(5, 4), Uint8Array.of(0x08, 0x01));
    const r = new Reader(group);
    r.unknown(r.tag(), group.length, []);
    expect(r.pos).toBe(group.length - 2);
    const bad = concat(tag(5, 3), tag(6, 4));
    const r2 = new Reader(bad);
    expect(() => r2.unknown(r2.tag(), bad.length, [])).toThrow('mismatched end-group tag for field 6, expected 5');
  });

  it('decodes strings exactly like TextDecoder, through the ASCII cache and around it', () => {
    const td = new TextDecoder();
    const samples: Uint8Array[] = [];
    for (let i = 0; i < 5000; i++) {
      const n = Math.floor(random() * 48);
      const b = new Uint8Array(n);
      const ascii = random() < 0.8;
      for (let j = 0; j < n; j++) b[j] = ascii ? 32 + Math.floor(random() * 95) : Math.floor(random() * 256);
      samples.push(b);
    }
    // Same length, same sampled bytes, different middle: must not be confused by the cache.
    samples.push(new TextEncoder().encode('abcdefXhij'), new TextEncoder().encode('abcdeYXhij'), new TextEncoder().encode('abcdefXhij'));
    for (let round = 0; round < 2; round++) {
      for (const b of samples) {
        // At an odd offset too: the cache compares unaligned 4-byte words.
        const shifted = concat(Uint8Array.of(round), b);
        expect(utf8(b, new DataView(b.buffer), 0, b.length)).toBe(td.decode(b));
        expect(utf8(shifted, new DataView(shifted.buffer), 1, shifted.length)).toBe(td.decode(b));
      }
    }
  });

  it('hex-encodes ids, empty for all zeroes', () => {
    const id = Uint8Array.of(0, 1, 0xab, 0xff, 0x10, 0, 0, 9);
    expect(hexId(id, 0, 8, true)).toBe('0001abff10000009');
    expect(hexId(new Uint8Array(16), 0, 16, true)).toBe('');
    expect(hexId(new Uint8Array(16), 0, 16, false)).toBe('0'.repeat(32));
  });
});
