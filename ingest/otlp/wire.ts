/**
 * A small protobuf wire-format reader: zero-copy over one Uint8Array, no per-field allocation, no BigInt.
 *
 * Decoders walk a message as `while (r.pos < end) { const tag = r.tag(); switch (tag) { ... } } r.close(end)`,
 * passing the end offset of the enclosing message to every length-delimited read so nothing can escape it.
 * 64-bit values land in `lo`/`hi` (two unsigned 32-bit halves) and become exact decimal strings with
 * `u64ToDecimal` / `i64ToDecimal`.
 */
import { OtlpDecodeError } from './errors.ts';

export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
const SGROUP = 3;
const EGROUP = 4;
export const I32 = 5;

const WIRE_NAMES = ['VARINT', 'I64', 'LEN', 'SGROUP', 'EGROUP', 'I32'];

/** Native byte order, so a DataView word read compares equal to an Int32Array word over the same bytes. */
export const NATIVE_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Known fields of one message: `[jsonName, wireType]` by field number, derived from descriptor.ts (`known`). Used to
 * reject wrong wire types.
 */
export type Fields = readonly (readonly [name: string, wireType: number] | undefined)[];

/** Groups are long deprecated but legal in unknown fields; bound their nesting like everything else. */
const MAX_GROUP_DEPTH = 64;

export class Reader {
  readonly buf: Uint8Array;
  pos = 0;
  /** Low / high unsigned 32-bit halves of the last 64-bit value read by `v64` / `fixed64`. */
  lo = 0;
  hi = 0;
  /** DataView over `buf`, for fixed-width reads and word-wise comparisons. */
  readonly view: DataView;
  /**
   * Strings and ids read as `''`: every check still runs, nothing is materialized. For callers that only need
   * to know a request is well-formed and how many items it holds (the Kafka gateway, which forwards the bytes):
   * building the strings was half of the decode.
   */
  readonly validateOnly: boolean;

  constructor(buf: Uint8Array, validateOnly = false) {
    this.buf = buf;
    this.validateOnly = validateOnly;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Reads a field tag; rejects field number 0 and the undefined wire types 6 and 7. */
  tag(): number {
    const buf = this.buf;
    const p = this.pos;
    let t: number;
    if (p < buf.length && buf[p]! < 0x80) {
      t = buf[p]!;
      this.pos = p + 1;
    } else {
      t = this.u32();
    }
    if (t < 8 || (t & 7) > 5) this.badTag(t, p);
    return t;
  }

  private badTag(t: number, at: number): never {
    if (t >>> 3 === 0) throw new OtlpDecodeError('', `invalid field number 0 at byte ${at}`);
    throw new OtlpDecodeError('', `invalid wire type ${t & 7} at byte ${at}`);
  }

  /** A varint that must fit in 32 unsigned bits (lengths, uint32 fields). */
  u32(): number {
    const buf = this.buf;
    const p = this.pos;
    if (p < buf.length) {
      const b0 = buf[p]!;
      if (b0 < 0x80) {
        this.pos = p + 1;
        return b0;
      }
      if (p + 1 < buf.length) {
        const b1 = buf[p + 1]!;
        if (b1 < 0x80) {
          this.pos = p + 2;
          return (b0 & 0x7f) | (b1 << 7);
        }
      }
    }
    const at = this.pos;
    this.v64();
    if (this.hi !== 0) throw new OtlpDecodeError('', `varint at byte ${at} does not fit in 32 bits`);
    return this.lo;
  }

  /** A varint read as int32 / enum: the low 32 bits, two's complement (negative values take 10 bytes on the wire). */
  i32(): number {
    const buf = this.buf;
    const p = this.pos;
    if (p < buf.length && buf[p]! < 0x80) {
      this.pos = p + 1;
      return buf[p]!;
    }
    this.v64();
    return this.lo | 0;
  }

  /** A sint32 (zigzag) varint. */
  s32(): number {
    this.v64();
    const n = this.lo;
    return (n >>> 1) ^ -(n & 1);
  }

  bool(): boolean {
    this.v64();
    return this.lo !== 0 || this.hi !== 0;
  }

  /** Any varint, into `lo` / `hi`. At most 10 bytes, the 10th carrying only bit 63. */
  v64(): void {
    const buf = this.buf;
    const n = buf.length;
    let p = this.pos;
    let lo = 0;
    let b: number;
    for (let shift = 0; shift < 28; shift += 7) {
      if (p >= n) this.truncatedVarint();
      b = buf[p++]!;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.lo = lo >>> 0;
        this.hi = 0;
        this.pos = p;
        return;
      }
    }
    if (p >= n) this.truncatedVarint();
    b = buf[p++]!;
    lo |= (b & 0x0f) << 28;
    let hi = (b & 0x7f) >>> 4;
    if (b < 0x80) {
      this.lo = lo >>> 0;
      this.hi = hi;
      this.pos = p;
      return;
    }
    for (let shift = 3; shift < 38; shift += 7) {
      if (p >= n) this.truncatedVarint();
      b = buf[p++]!;
      if (shift === 31 && b > 1) throw new OtlpDecodeError('', `varint at byte ${this.pos} overflows 64 bits`);
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        this.pos = p;
        return;
      }
    }
    throw new OtlpDecodeError('', `varint at byte ${this.pos} is longer than 10 bytes`);
  }

  private truncatedVarint(): never {
    throw new OtlpDecodeError('', `truncated: varint at byte ${this.pos} runs past the end of the input`);
  }

  fixed32(): number {
    const p = this.pos;
    if (p + 4 > this.buf.length) this.truncatedFixed(4);
    this.pos = p + 4;
    return this.view.getUint32(p, true);
  }

  /** A fixed64 / sfixed64, into `lo` / `hi`. */
  fixed64(): void {
    const p = this.pos;
    if (p + 8 > this.buf.length) this.truncatedFixed(8);
    this.pos = p + 8;
    this.lo = this.view.getUint32(p, true);
    this.hi = this.view.getUint32(p + 4, true);
  }

  double(): number {
    const p = this.pos;
    if (p + 8 > this.buf.length) this.truncatedFixed(8);
    this.pos = p + 8;
    return this.view.getFloat64(p, true);
  }

  private truncatedFixed(size: number): never {
    throw new OtlpDecodeError('', `truncated: ${size}-byte value at byte ${this.pos} runs past the end of the input`);
  }

  /** Reads a length prefix and returns the end offset of the value, which must lie within `limit`. */
  lenEnd(limit: number): number {
    const at = this.pos;
    const len = this.u32();
    const end = this.pos + len;
    if (end > limit) {
      throw new OtlpDecodeError(
        '',
        `truncated: length ${len} at byte ${at} runs past the end of the enclosing message at byte ${limit}`,
      );
    }
    return end;
  }

  string(limit: number): string {
    const end = this.lenEnd(limit);
    const start = this.pos;
    this.pos = end;
    return this.validateOnly ? '' : utf8(this.buf, this.view, start, end);
  }

  /**
   * A trace id (`size` 16) or span id (`size` 8): lowercase hex; `''` when empty or all zeroes, as the exporter writes
   * them. Any other length is an error named after `field`.
   */
  id(limit: number, size: number, field: string): string {
    const end = this.lenEnd(limit);
    const start = this.pos;
    const n = end - start;
    if (n !== size && n !== 0) throw new OtlpDecodeError(field, `must be ${size} bytes, got ${n}`);
    this.pos = end;
    return this.validateOnly ? '' : hexId(this.buf, start, end, true);
  }

  /** Like `id`, but an empty or zero id becomes zeroes (exemplars: the exporter hex-encodes the raw array). */
  rawId(limit: number, size: number, field: string): string {
    const end = this.lenEnd(limit);
    const start = this.pos;
    const n = end - start;
    if (n !== size && n !== 0) throw new OtlpDecodeError(field, `must be ${size} bytes, got ${n}`);
    this.pos = end;
    if (this.validateOnly) return '';
    return n === 0 ? (size === 16 ? ZERO_TRACE_ID : ZERO_SPAN_ID) : hexId(this.buf, start, end, false);
  }

  /** Verifies a message ended exactly at `end` (a field that overran it is caught here). */
  close(end: number): void {
    if (this.pos !== end) {
      throw new OtlpDecodeError('', `truncated: last field runs past the end of the enclosing message (byte ${end})`);
    }
  }

  /**
   * Skips a field the decoder does not use (unknown, or known but not stored); a known field (in `known`) with the
   * wrong wire type is an error.
   */
  unknown(tag: number, limit: number, known: Fields): void {
    const f = known[tag >>> 3];
    const wt = tag & 7;
    if (f !== undefined && f[1] !== wt) {
      throw new OtlpDecodeError(
        f[0],
        `wrong wire type ${wt} (${WIRE_NAMES[wt] ?? '?'}), expected ${f[1]} (${WIRE_NAMES[f[1]] ?? '?'})`,
      );
    }
    this.skip(tag, limit, 0);
  }

  /** Skips one field's value, whatever it is. */
  skip(tag: number, limit: number, depth: number): void {
    switch (tag & 7) {
      case VARINT:
        this.v64();
        return;
      case I64:
        this.pos += 8;
        break;
      case LEN:
        this.pos = this.lenEnd(limit);
        return;
      case I32:
        this.pos += 4;
        break;
      case SGROUP:
        this.skipGroup(tag >>> 3, limit, depth + 1);
        return;
      default:
        throw new OtlpDecodeError('', `unexpected end-group tag for field ${tag >>> 3} at byte ${this.pos}`);
    }
    if (this.pos > limit) throw new OtlpDecodeError('', `truncated: fixed-size field runs past byte ${limit}`);
  }

  private skipGroup(no: number, limit: number, depth: number): void {
    if (depth > MAX_GROUP_DEPTH) throw new OtlpDecodeError('', `groups nested deeper than ${MAX_GROUP_DEPTH}`);
    while (this.pos < limit) {
      const tag = this.tag();
      if ((tag & 7) === EGROUP) {
        if (tag >>> 3 !== no) throw new OtlpDecodeError('', `mismatched end-group tag for field ${tag >>> 3}, expected ${no}`);
        return;
      }
      this.skip(tag, limit, depth);
    }
    throw new OtlpDecodeError('', `truncated: group for field ${no} is not closed`);
  }
}

// ---- strings -------------------------------------------------------------------------------------------------------

const decoder = new TextDecoder('utf-8');

/**
 * Short ASCII strings repeat endlessly in telemetry (attribute keys, span names, enum-like values). A direct-mapped
 * cache returns the same string object for the same bytes: no allocation, and a key V8 has already internalized, so
 * storing it as a property is a pointer comparison instead of a string-table lookup.
 */
const CACHE_SIZE = 4096; // 12 bits, see `slot`
const CACHE_MAX = 40;
const cacheText: string[] = new Array<string>(CACHE_SIZE).fill('');
/** The bytes of each cached string, compared byte to byte (cheaper than against the string's characters). */
const cacheBytes = new Uint8Array(CACHE_SIZE * CACHE_MAX);
const cacheWords = new Int32Array(cacheBytes.buffer);
/**
 * Second chance: a hit marks the entry, a miss on a marked entry only clears the mark. One-off values (request ids,
 * client addresses) then cannot evict the strings that keep repeating.
 */
const cacheUsed = new Uint8Array(CACHE_SIZE);
/** Scratch arrays of each length for String.fromCharCode.apply: no allocation besides the string itself. */
const charCodes: number[][] = Array.from({ length: CACHE_MAX + 1 }, (_, n) => new Array<number>(n).fill(0));

/**
 * UTF-8 → string. Invalid sequences become U+FFFD (the collector does not validate UTF-8; this is what a JSON
 * encoder downstream would do with them anyway).
 */
export function utf8(buf: Uint8Array, view: DataView, start: number, end: number): string {
  const n = end - start;
  if (n === 0) return '';
  if (n > CACHE_MAX) return decoder.decode(buf.subarray(start, end));
  // Hash a few bytes only; the comparison below checks them all.
  const h =
    (n << 24) ^ (buf[start]! << 16) ^ (buf[end - 1]! << 8) ^ buf[start + (n >> 1)]! ^ (n > 2 ? buf[end - 2]! << 3 : 0);
  const slot = Math.imul(h, 0x9e3779b1) >>> 20;
  const hit = cacheText[slot]!;
  const base = slot * CACHE_MAX;
  if (hit.length === n && sameWords(view, start, cacheWords, base >> 2, n)) {
    let i = n & ~3;
    while (i < n && cacheBytes[base + i] === buf[start + i]) i++;
    // Cached strings are ASCII (one byte per character), so equal bytes mean an equal string.
    if (i === n) {
      cacheUsed[slot] = 1;
      return hit;
    }
  }
  const codes = charCodes[n]!;
  for (let i = 0; i < n; i++) {
    const c = buf[start + i]!;
    if (c >= 0x80) return decoder.decode(buf.subarray(start, end));
    codes[i] = c;
  }
  const s = String.fromCharCode.apply(null, codes);
  if (cacheUsed[slot] === 1) {
    cacheUsed[slot] = 0;
  } else {
    cacheText[slot] = s;
    for (let i = 0; i < n; i++) cacheBytes[base + i] = codes[i]!;
  }
  return s;
}

/**
 * Whether the whole 4-byte words of `view[start, start + n)` equal `words[at, ...)` (the remaining n % 4 bytes are the
 * caller's to compare). Four bytes per step instead of one: the caches compare every byte of every hit.
 */
export function sameWords(view: DataView, start: number, words: Int32Array, at: number, n: number): boolean {
  const full = n >> 2;
  for (let w = 0; w < full; w++) {
    if (view.getInt32(start + w * 4, NATIVE_LE) !== words[at + w]) return false;
  }
  return true;
}

// ---- ids -----------------------------------------------------------------------------------------------------------

const HEX_CODES: number[] = [];
for (let i = 0; i < 16; i++) HEX_CODES.push('0123456789abcdef'.charCodeAt(i));
/** Reused scratch for one id's character codes (span ids, trace ids): one string allocation per id. */
const codes16: number[] = new Array<number>(16).fill(0);
const codes32: number[] = new Array<number>(32).fill(0);

export const ZERO_TRACE_ID = '0'.repeat(32);
export const ZERO_SPAN_ID = '0'.repeat(16);

/** Lowercase hex of an 8- or 16-byte id; `''` for all zeroes when `zeroAsEmpty` (pdata's `IsEmpty`). */
export function hexId(buf: Uint8Array, start: number, end: number, zeroAsEmpty: boolean): string {
  const codes = end - start === 8 ? codes16 : codes32;
  let any = 0;
  let j = 0;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    any |= b;
    codes[j++] = HEX_CODES[b >> 4]!;
    codes[j++] = HEX_CODES[b & 15]!;
  }
  if (any === 0 && zeroAsEmpty) return '';
  return String.fromCharCode.apply(null, codes);
}

// ---- 64-bit integers as exact decimal strings ----------------------------------------------------------------------

const TWO_32 = 4294967296;

/** Exact decimal string of the unsigned 64-bit value `hi * 2^32 + lo`, without BigInt. */
export function u64ToDecimal(lo: number, hi: number): string {
  // Below 2^53 a double is exact.
  if (hi < 0x200000) return String(hi * TWO_32 + lo);
  // Nanosecond timestamps of one request mostly fall in a few seconds: when the value lies within the second of the
  // previous one, only the nanoseconds need formatting. (`d` is exact whenever it lands in [0, 1e9).)
  const d = (hi - secondHi) * TWO_32 + (lo - secondLo);
  if (d >= 0 && d < 1e9) return secondText + (d >= 1e8 ? String(d) : String(d + 1e9).slice(1));
  return u64ToDecimalSlow(lo, hi);
}

/** The last second seen by u64ToDecimal: its value in nanoseconds (lo / hi) and its decimal seconds. */
let secondLo = 0;
let secondHi = 0;
let secondText = '';

function u64ToDecimalSlow(lo: number, hi: number): string {
  // Split into 24-bit limbs (value = high·2^48 + mid·2^24 + low) and carry in base 1e7:
  // 2^24 = 1·10^7 + 6777216, 2^48 = 2·10^14 + 8147497·10^7 + 6710656.
  const low = lo & 0xffffff;
  const mid = ((lo >>> 24) | (hi << 8)) & 0xffffff;
  const high = hi >>> 16;
  let a = low + mid * 6777216 + high * 6710656;
  let b = mid + high * 8147497;
  let c = high * 2;
  if (a >= 1e7) {
    b += Math.floor(a / 1e7);
    a %= 1e7;
  }
  if (b >= 1e7) {
    c += Math.floor(b / 1e7);
    b %= 1e7;
  }
  // value = h·10^7 + a with h = c·10^7 + b < 2^64 / 10^7 < 2^53, exact; split into seconds and nanoseconds.
  const h = c * 1e7 + b;
  const secs = Math.floor(h / 100);
  const nanos = (h - secs * 100) * 1e7 + a;
  secondText = String(secs);
  secondLo = lo - nanos;
  secondHi = hi;
  if (secondLo < 0) {
    secondLo += TWO_32;
    secondHi -= 1;
  }
  return secondText + (nanos >= 1e8 ? String(nanos) : String(nanos + 1e9).slice(1));
}

/** Exact decimal string of the two's-complement signed 64-bit value in `lo` / `hi`. */
export function i64ToDecimal(lo: number, hi: number): string {
  if (hi < 0x80000000) return u64ToDecimal(lo, hi);
  const nlo = (~lo + 1) >>> 0;
  const nhi = (~hi + (nlo === 0 ? 1 : 0)) >>> 0;
  return '-' + u64ToDecimal(nlo, nhi);
}

/** `float64(int64)`, correctly rounded: one IEEE addition of two exactly representable parts. */
export function i64ToNumber(lo: number, hi: number): number {
  return (hi | 0) * TWO_32 + lo;
}

/** `end - start` of two unsigned 64-bit values as a decimal string, `"0"` when end < start. */
export function u64DiffToDecimal(endLo: number, endHi: number, startLo: number, startHi: number): string {
  if (endHi < startHi || (endHi === startHi && endLo < startLo)) return '0';
  let lo = endLo - startLo;
  let hi = endHi - startHi;
  if (lo < 0) {
    lo += TWO_32;
    hi -= 1;
  }
  return u64ToDecimal(lo, hi);
}
