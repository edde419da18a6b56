/**
 * The exporter's string form of an OTLP AnyValue: what pdata's `pcommon.Value.AsString()` returns, which the
 * ClickHouse exporter stores in every attribute map and in the log `Body`
 * (opentelemetry-collector `pdata/pcommon/value.go`):
 *
 * - empty → `""`; string as is; bool `"true"` / `"false"`; int in decimal (exact for all of int64);
 * - double → `float64AsString`: like Go's `encoding/json` (ES6 number formatting: shortest round-trip digits, exponent
 *   below 1e-6 and from 1e21, e.g. `"1e+21"`, `"9e-9"`), `-0` as `"-0"`, and NaN / ±Inf as
 *   `"json: unsupported value: NaN"` / `"…: +Inf"` / `"…: -Inf"`;
 * - bytes → standard base64 with padding;
 * - array / kvlist → `json.Marshal` of `AsRaw()`: raw JSON values (not typed wrappers), map keys sorted by bytes, HTML
 *   characters escaped (`\u003c`), bytes as base64 strings, empty values as `null`; `""` when any double inside is
 *   NaN or ±Inf (json.Marshal fails and AsString ignores the error).
 */
import type { Attrs } from './rows.ts';

/** An int64 inside an array or kvlist, kept as its exact decimal string. */
export class IntValue {
  constructor(readonly decimal: string) {}
}

/** Bytes inside an array or kvlist, kept as standard base64 (how json.Marshal writes a []byte). */
export class BytesValue {
  constructor(readonly base64: string) {}
}

/**
 * An AnyValue inside an array or kvlist: `null` empty, `string` string, `boolean` bool, `number` double,
 * `IntValue` int, `BytesValue` bytes, arrays and maps. Maps keep the last value of a repeated key, like `AsRaw()`.
 */
export type RawValue = null | string | boolean | number | IntValue | BytesValue | RawValue[] | RawMap;
export type RawMap = Map<string, RawValue>;

/** AsString of a double. */
export function formatDouble(v: number): string {
  if (v !== v) return 'json: unsupported value: NaN';
  if (v === Infinity) return 'json: unsupported value: +Inf';
  if (v === -Infinity) return 'json: unsupported value: -Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  // ECMAScript Number::toString is exactly Go's json float format for finite non-zero doubles: shortest round-trip
  // digits, fixed notation in [1e-6, 1e21), otherwise `d.ddde±x` with a minimal exponent.
  return String(v);
}

/** AsString of an array value. */
export function marshalArray(values: RawValue[]): string {
  return encodeArray(values) ?? '';
}

/** AsString of a kvlist value. */
export function marshalMap(map: RawMap): string {
  return encodeMap(map) ?? '';
}

/** AsString of any raw value (used for values decoded before their top-level use is known). */
export function rawAsString(v: RawValue): string {
  if (v === null) return '';
  switch (typeof v) {
    case 'string':
      return v;
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      return formatDouble(v);
  }
  if (v instanceof IntValue) return v.decimal;
  if (v instanceof BytesValue) return v.base64;
  if (Array.isArray(v)) return marshalArray(v);
  return marshalMap(v);
}

/**
 * Stores `value` under `key`, last write wins (like a Go map). `__proto__` is stored as an own property instead of
 * replacing the object's prototype.
 */
export function setAttr(attrs: Attrs, key: string, value: string): void {
  if (key === '__proto__') {
    Object.defineProperty(attrs, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    attrs[key] = value;
  }
}

// ---- json.Marshal -------------------------------------------------------------------------------------------------

/** `undefined` when a NaN / ±Inf makes json.Marshal fail. */
function encode(v: RawValue): string | undefined {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return quote(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (v !== v || v === Infinity || v === -Infinity) return undefined;
      return formatDouble(v);
  }
  if (v instanceof IntValue) return v.decimal;
  if (v instanceof BytesValue) return `"${v.base64}"`;
  if (Array.isArray(v)) return encodeArray(v);
  return encodeMap(v);
}

function encodeArray(values: RawValue[]): string | undefined {
  let out = '[';
  for (let i = 0; i < values.length; i++) {
    const e = encode(values[i]!);
    if (e === undefined) return undefined;
    out += i === 0 ? e : ',' + e;
  }
  return out + ']';
}

function encodeMap(map: RawMap): string | undefined {
  const keys = [...map.keys()].sort(compareCodePoints);
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const e = encode(map.get(k)!);
    if (e === undefined) return undefined;
    out += (i === 0 ? '' : ',') + quote(k) + ':' + e;
  }
  return out + '}';
}

/**
 * Go sorts map keys by their UTF-8 bytes, which is code point order; JavaScript compares UTF-16 code units, which
 * puts astral characters (surrogates) before U+E000..U+FFFF. Remap surrogates above that range before comparing.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what must be escaped
const NEEDS_ESCAPE = /["\\<>&\u0000-\u001f\u2028\u2029\ud800-\udfff]/;
const HEX_DIGITS = '0123456789abcdef';

/** A JSON string as Go's encoding/json writes it (HTML-safe, `\b` `\f` short forms since Go 1.22). */
export function quote(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string;
    if (c < 0x20) {
      rep =
        c === 0x08 ? '\\b'
        : c === 0x0c ? '\\f'
        : c === 0x0a ? '\\n'
        : c === 0x0d ? '\\r'
        : c === 0x09 ? '\\t'
        : '\\u00' + HEX_DIGITS[c >> 4]! + HEX_DIGITS[c & 15]!;
    } else if (c === 0x22) rep = '\\"';
    else if (c === 0x5c) rep = '\\\\';
    else if (c === 0x3c) rep = '\\u003c';
    else if (c === 0x3e) rep = '\\u003e';
    else if (c === 0x26) rep = '\\u0026';
    else if (c === 0x2028) rep = '\\u2028';
    else if (c === 0x2029) rep = '\\u2029';
    else if (c >= 0xd800 && c <= 0xdfff) {
      // A valid pair is an ordinary character; a lone surrogate is invalid UTF-8 to Go, written as \ufffd.
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      rep = '\\ufffd';
    } else continue;
    out += s.slice(from, i) + rep;
    from = i + 1;
  }
  return out + s.slice(from) + '"';
}

// ---- base64 ----------------------------------------------------------------------------------------------------------

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 with padding of `buf[start, end)` (Go's `base64.StdEncoding`). */
export function encodeBase64(buf: Uint8Array, start = 0, end = buf.length): string {
  let out = '';
  let i = start;
  for (; i + 2 < end; i += 3) {
    const n = (buf[i]! << 16) | (buf[i + 1]! << 8) | buf[i + 2]!;
    out += B64[n >>> 18]! + B64[(n >>> 12) & 63]! + B64[(n >>> 6) & 63]! + B64[n & 63]!;
  }
  if (i + 1 === end) {
    const n = buf[i]! << 16;
    out += B64[n >>> 18]! + B64[(n >>> 12) & 63]! + '==';
  } else if (i + 2 === end) {
    const n = (buf[i]! << 16) | (buf[i + 1]! << 8);
    out += B64[n >>> 18]! + B64[(n >>> 12) & 63]! + B64[(n >>> 6) & 63]! + '=';
  }
  return out;
}

const B64_INDEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_INDEX[B64.charCodeAt(i)] = i;
B64_INDEX['-'.charCodeAt(0)] = 62;
B64_INDEX['_'.charCodeAt(0)] = 63;

/**
 * Decodes base64 as protojson accepts it for `bytes` fields: standard or URL-safe alphabet, padded or not.
 * Returns `undefined` when `s` is not base64.
 */
export function decodeBase64(s: string): Uint8Array | undefined {
  let len = s.length;
  if (len % 4 === 0 && len > 0) {
    if (s.charCodeAt(len - 1) === 61) len--;
    if (s.charCodeAt(len - 1) === 61) len--;
  }
  if (len % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? B64_INDEX[c]! : -1;
    if (v < 0) return undefined;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  return out;
}
