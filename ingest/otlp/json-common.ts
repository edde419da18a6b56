/**
 * OTLP/JSON field readers and the common.v1 / resource.v1 messages, following the OTLP/JSON rules
 * (opentelemetry-proto README / OTLP spec "JSON Protobuf Encoding"):
 * - keys are lowerCamelCase; the original snake_case names are accepted too; unknown keys are ignored;
 * - `null` means "not set", like protojson;
 * - trace and span ids are hex strings (not base64), case-insensitive;
 * - enums are integers, or their names;
 * - 64-bit integers are decimal strings or JSON numbers, kept exact (see json-parse.ts);
 * - `bytes` are base64 (standard or URL-safe, padding optional).
 * Every reader throws an OtlpDecodeError naming the field (its lowerCamelCase name).
 */
import {
  BytesValue,
  IntValue,
  decodeBase64,
  encodeBase64,
  formatDouble,
  marshalArray,
  marshalMap,
  setAttr,
  type RawMap,
  type RawValue,
} from './attributes.ts';
import { OtlpDecodeError, within } from './errors.ts';
import { ExactNumber, NeedExactNumbers } from './json-parse.ts';
import { MAX_VALUE_DEPTH } from './proto-common.ts';
import { newScope, resourceInfo, type ResourceInfo, type ScopeInfo } from './row-builders.ts';
import type { Attrs } from './rows.ts';
import { ZERO_SPAN_ID, ZERO_TRACE_ID } from './wire.ts';

export type Obj = Record<string, unknown>;

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof ExactNumber) return `number ${v.text}`;
  switch (typeof v) {
    case 'string':
      return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
    case 'number':
    case 'boolean':
      return `${typeof v} ${String(v)}`;
    case 'object':
      return 'an object';
    default:
      return typeof v;
  }
}

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof ExactNumber);
}

/** The value of `camel` (or `snake`), `undefined` when absent or null. */
export function get(o: Obj, camel: string, snake?: string): unknown {
  let v = o[camel];
  if (v === undefined && snake !== undefined) v = o[snake];
  return v === null ? undefined : v;
}

/** A message-typed field: an object, or `undefined` when absent. */
export function message(o: Obj, camel: string, snake?: string): Obj | undefined {
  const v = get(o, camel, snake);
  if (v === undefined || isObj(v)) return v;
  throw new OtlpDecodeError(camel, `must be an object, got ${typeName(v)}`);
}

export function list(o: Obj, camel: string, snake?: string): unknown[] {
  const v = get(o, camel, snake);
  if (v === undefined) return [];
  if (Array.isArray(v)) return v;
  throw new OtlpDecodeError(camel, `must be an array, got ${typeName(v)}`);
}

/** An element of a repeated message field (the caller's `within` names it). */
export function element(v: unknown): Obj {
  if (isObj(v)) return v;
  throw new OtlpDecodeError('', `must be an object, got ${typeName(v)}`);
}

export function str(o: Obj, camel: string, snake?: string): string {
  const v = get(o, camel, snake);
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  throw new OtlpDecodeError(camel, `must be a string, got ${typeName(v)}`);
}

export function bool(o: Obj, camel: string, snake?: string): boolean {
  const v = get(o, camel, snake);
  if (v === undefined) return false;
  if (typeof v === 'boolean') return v;
  throw new OtlpDecodeError(camel, `must be a boolean, got ${typeName(v)}`);
}

// ---- integers --------------------------------------------------------------------------------------------------

const INT64_MAX = '9223372036854775807';
const INT64_MIN_ABS = '9223372036854775808';
const UINT64_MAX = '18446744073709551615';

/** a ≤ b for canonical non-negative decimal strings. */
function decimalLE(a: string, b: string): boolean {
  return a.length < b.length || (a.length === b.length && a <= b);
}

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * The exact integer a JSON number literal (or the same text in a string) denotes, as a canonical decimal string;
 * `undefined` if it is not an integer. Decimal arithmetic on the digits: `1.7e18` is 1700000000000000000.
 */
export function integerText(text: string): string | undefined {
  const m = DECIMAL.exec(text);
  if (m === null) return undefined;
  const intPart = m[2]!;
  // value = 0.DIGITS × 10^point
  let digits = intPart + (m[3] ?? '');
  let point = intPart.length + (m[4] === undefined ? 0 : Number(m[4]));
  let lead = 0;
  while (lead < digits.length && digits.charCodeAt(lead) === 48) lead++;
  digits = digits.slice(lead);
  point -= lead;
  if (digits === '') return '0';
  let len = digits.length;
  while (digits.charCodeAt(len - 1) === 48) len--;
  digits = digits.slice(0, len);
  if (point < digits.length || point > 400) return undefined; // a fraction, or absurdly large
  return (m[1] === undefined ? '' : '-') + digits + '0'.repeat(point - digits.length);
}

/**
 * A 64-bit integer field (`signed`: int64 / sfixed64, else uint64 / fixed64) → canonical decimal string, `"0"` when
 * absent. Accepts a JSON number (exact: unsafe ones trigger the exact re-parse) or a string holding a number.
 */
export function int64(o: Obj, camel: string, snake: string | undefined, signed: boolean): string {
  const v = get(o, camel, snake);
  if (v === undefined) return '0';
  return int64Value(v, camel, signed);
}

export function int64Value(v: unknown, field: string, signed: boolean): string {
  let text: string | undefined;
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) text = String(v === 0 ? 0 : v);
    else if (Number.isInteger(v)) throw NeedExactNumbers.instance;
    else throw new OtlpDecodeError(field, `must be an integer, got ${typeName(v)}`);
  } else if (typeof v === 'string' && plainDecimal(v) && (v.length < 19 || !signed || v <= INT64_MAX)) {
    return v; // the usual form of timestamps: already canonical and in range
  } else if (v instanceof ExactNumber || typeof v === 'string') {
    const src = typeof v === 'string' ? v : v.text;
    text = integerText(src);
    if (text === undefined) throw new OtlpDecodeError(field, `must be an integer, got ${typeName(v)}`);
  } else {
    throw new OtlpDecodeError(field, `must be an integer (number or decimal string), got ${typeName(v)}`);
  }
  if (text === '-0') text = '0';
  const neg = text.charCodeAt(0) === 45;
  const inRange = signed
    ? neg
      ? decimalLE(text.slice(1), INT64_MIN_ABS)
      : decimalLE(text, INT64_MAX)
    : !neg && decimalLE(text, UINT64_MAX);
  if (!inRange) {
    throw new OtlpDecodeError(field, `${typeName(v)} is out of range for ${signed ? 'int64' : 'uint64'}`);
  }
  return text;
}

/** Digits only, no leading zero, at most 19 of them (below 10^19, so within uint64). */
function plainDecimal(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 19 || (s.charCodeAt(0) === 48 && n > 1)) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** A 32-bit integer / enum field; enums also accept their value names (`names`). */
export function int32(o: Obj, camel: string, snake: string | undefined, names?: Readonly<Record<string, number>>): number {
  const v = get(o, camel, snake);
  if (v === undefined) return 0;
  if (typeof v === 'number' && Number.isInteger(v) && v >= -2147483648 && v <= 2147483647) return v === 0 ? 0 : v;
  if (typeof v === 'string') {
    if (names !== undefined && Object.hasOwn(names, v)) return names[v]!;
    const t = integerText(v);
    if (t !== undefined) {
      const n = Number(t);
      if (n >= -2147483648 && n <= 2147483647) return n;
    }
  }
  const want = names === undefined ? 'an int32' : 'an enum value (int32 or name)';
  throw new OtlpDecodeError(camel, `must be ${want}, got ${typeName(v)}`);
}

export function uint32(o: Obj, camel: string, snake?: string): number {
  const v = get(o, camel, snake);
  if (v === undefined) return 0;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 4294967295) return v === 0 ? 0 : v;
  if (typeof v === 'string') {
    const t = integerText(v);
    if (t !== undefined) {
      const n = Number(t);
      if (n >= 0 && n <= 4294967295) return n;
    }
  }
  throw new OtlpDecodeError(camel, `must be a uint32, got ${typeName(v)}`);
}

const FLOAT_TEXT = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** A double field, `0` when absent: a number, or a string (`"NaN"`, `"Infinity"`, `"-Infinity"` or a number). */
export function double(o: Obj, camel: string, snake?: string): number {
  const v = get(o, camel, snake);
  return v === undefined ? 0 : doubleValue(v, camel);
}

export function doubleValue(v: unknown, field: string): number {
  if (typeof v === 'number') return v;
  if (v instanceof ExactNumber) return Number(v.text);
  if (typeof v === 'string') {
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    if (FLOAT_TEXT.test(v)) return Number(v);
  }
  throw new OtlpDecodeError(field, `must be a number, got ${typeName(v)}`);
}

// ---- ids and bytes --------------------------------------------------------------------------------------------------

const HEX = /^[0-9a-fA-F]*$/;

/**
 * A trace id (`size` 16) or span id (`size` 8) in hex → lowercase hex; `''` when empty or all zeroes (`raw`: zeroes
 * instead, for exemplars). Anything but 2·size hex digits is an error.
 */
export function id(o: Obj, camel: string, snake: string, size: number, raw = false): string {
  const v = get(o, camel, snake);
  const empty = raw ? (size === 16 ? ZERO_TRACE_ID : ZERO_SPAN_ID) : '';
  if (v === undefined || v === '') return empty;
  if (typeof v !== 'string') throw new OtlpDecodeError(camel, `must be a hex string, got ${typeName(v)}`);
  if (v.length !== size * 2 || !HEX.test(v)) {
    throw new OtlpDecodeError(
      camel,
      `must be ${size * 2} hex characters (${size} bytes), got ${HEX.test(v) ? `${v.length} characters` : typeName(v)}`,
    );
  }
  const hex = v.toLowerCase();
  return !raw && /^0+$/.test(hex) ? '' : hex;
}

function base64Field(v: unknown, field: string): string {
  if (typeof v !== 'string') throw new OtlpDecodeError(field, `must be a base64 string, got ${typeName(v)}`);
  const bytes = decodeBase64(v);
  if (bytes === undefined) throw new OtlpDecodeError(field, `is not valid base64: ${typeName(v)}`);
  return encodeBase64(bytes);
}

// ---- AnyValue / KeyValue ------------------------------------------------------------------------------------------

const STRING = 1;
const BOOL = 2;
const INT = 3;
const DOUBLE = 4;
const ARRAY = 5;
const KVLIST = 6;
const BYTES = 7;

const VALUE_KEYS: Readonly<Record<string, number>> = {
  stringValue: STRING,
  string_value: STRING,
  boolValue: BOOL,
  bool_value: BOOL,
  intValue: INT,
  int_value: INT,
  doubleValue: DOUBLE,
  double_value: DOUBLE,
  arrayValue: ARRAY,
  array_value: ARRAY,
  kvlistValue: KVLIST,
  kvlist_value: KVLIST,
  bytesValue: BYTES,
  bytes_value: BYTES,
};
const VALUE_NAMES = ['', 'stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'];

/** Which member of the AnyValue oneof is set (0: none) and its value; two set members are an error. */
function oneof(v: Obj): [kind: number, value: unknown] {
  let kind = 0;
  let value: unknown;
  for (const k in v) {
    const kk = Object.hasOwn(VALUE_KEYS, k) ? VALUE_KEYS[k]! : 0;
    if (kk === 0) continue;
    const x = v[k];
    if (x === null) continue;
    if (kind !== 0) {
      throw new OtlpDecodeError('', `more than one value is set (${VALUE_NAMES[kind]!} and ${VALUE_NAMES[kk]!})`);
    }
    kind = kk;
    value = x;
  }
  return [kind, value];
}

/** An AnyValue → its AsString form. */
export function anyValueString(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (!isObj(v)) throw new OtlpDecodeError('', `must be an object (AnyValue), got ${typeName(v)}`);
  const [kind, x] = oneof(v);
  switch (kind) {
    case 0:
      return '';
    case STRING:
      if (typeof x === 'string') return x;
      throw new OtlpDecodeError('stringValue', `must be a string, got ${typeName(x)}`);
    case BOOL:
      if (typeof x === 'boolean') return x ? 'true' : 'false';
      throw new OtlpDecodeError('boolValue', `must be a boolean, got ${typeName(x)}`);
    case INT:
      return int64Value(x, 'intValue', true);
    case DOUBLE:
      return formatDouble(doubleValue(x, 'doubleValue'));
    case ARRAY:
      try {
        return marshalArray(arrayRaw(x, 1));
      } catch (err) {
        throw within(err, 'arrayValue');
      }
    case KVLIST:
      try {
        return marshalMap(kvlistRaw(x, 1));
      } catch (err) {
        throw within(err, 'kvlistValue');
      }
    default:
      return base64Field(x, 'bytesValue');
  }
}

function anyValueRaw(v: unknown, depth: number): RawValue {
  if (depth > MAX_VALUE_DEPTH) throw new OtlpDecodeError('', `values nested deeper than ${MAX_VALUE_DEPTH}`);
  if (v === undefined || v === null) return null;
  if (!isObj(v)) throw new OtlpDecodeError('', `must be an object (AnyValue), got ${typeName(v)}`);
  const [kind, x] = oneof(v);
  switch (kind) {
    case 0:
      return null;
    case STRING:
      if (typeof x === 'string') return x;
      throw new OtlpDecodeError('stringValue', `must be a string, got ${typeName(x)}`);
    case BOOL:
      if (typeof x === 'boolean') return x;
      throw new OtlpDecodeError('boolValue', `must be a boolean, got ${typeName(x)}`);
    case INT:
      return new IntValue(int64Value(x, 'intValue', true));
    case DOUBLE:
      return doubleValue(x, 'doubleValue');
    case ARRAY:
      try {
        return arrayRaw(x, depth + 1);
      } catch (err) {
        throw within(err, 'arrayValue');
      }
    case KVLIST:
      try {
        return kvlistRaw(x, depth + 1);
      } catch (err) {
        throw within(err, 'kvlistValue');
      }
    default:
      return new BytesValue(base64Field(x, 'bytesValue'));
  }
}

function arrayRaw(v: unknown, depth: number): RawValue[] {
  if (!isObj(v)) throw new OtlpDecodeError('', `must be an object (ArrayValue), got ${typeName(v)}`);
  const values = list(v, 'values');
  const out: RawValue[] = [];
  for (let i = 0; i < values.length; i++) {
    try {
      out.push(anyValueRaw(values[i], depth));
    } catch (err) {
      throw within(err, `values[${i}]`);
    }
  }
  return out;
}

function kvlistRaw(v: unknown, depth: number): RawMap {
  if (!isObj(v)) throw new OtlpDecodeError('', `must be an object (KeyValueList), got ${typeName(v)}`);
  const values = list(v, 'values');
  const out: RawMap = new Map();
  for (let i = 0; i < values.length; i++) {
    try {
      const kv = element(values[i]);
      const key = str(kv, 'key');
      let value: RawValue;
      try {
        value = anyValueRaw(get(kv, 'value'), depth);
      } catch (err) {
        throw within(err, 'value');
      }
      out.set(key, value);
    } catch (err) {
      throw within(err, `values[${i}]`);
    }
  }
  return out;
}

/** A `repeated KeyValue` field → attribute map (last repeated key wins). */
export function attributes(o: Obj, camel: string, snake?: string): Attrs {
  const kvs = list(o, camel, snake);
  const attrs: Attrs = {};
  for (let i = 0; i < kvs.length; i++) {
    const kv = kvs[i];
    try {
      if (!isObj(kv)) throw new OtlpDecodeError('', `must be an object (KeyValue), got ${typeName(kv)}`);
      const key = str(kv, 'key');
      let value: string;
      try {
        value = anyValueString(get(kv, 'value'));
      } catch (err) {
        throw within(err, 'value');
      }
      setAttr(attrs, key, value);
    } catch (err) {
      throw within(err, `${camel}[${i}]`);
    }
  }
  return attrs;
}

// ---- Resource / InstrumentationScope ------------------------------------------------------------------------------

/** The `resource` and `schemaUrl` of a ResourceSpans / ResourceLogs / ResourceMetrics. */
export function resource(container: Obj): ResourceInfo {
  const res = message(container, 'resource');
  let attrs: Attrs = {};
  if (res !== undefined) {
    try {
      attrs = attributes(res, 'attributes');
      uint32(res, 'droppedAttributesCount', 'dropped_attributes_count');
      list(res, 'entityRefs', 'entity_refs');
    } catch (err) {
      throw within(err, 'resource');
    }
  }
  return resourceInfo(attrs, str(container, 'schemaUrl', 'schema_url'));
}

/** The `scope` and `schemaUrl` of a ScopeSpans / ScopeLogs / ScopeMetrics. */
export function scope(container: Obj): ScopeInfo {
  const s = message(container, 'scope');
  let info: ScopeInfo;
  if (s === undefined) info = newScope();
  else {
    try {
      info = {
        name: str(s, 'name'),
        version: str(s, 'version'),
        attrs: attributes(s, 'attributes'),
        droppedAttributesCount: uint32(s, 'droppedAttributesCount', 'dropped_attributes_count'),
        schemaUrl: '',
      };
    } catch (err) {
      throw within(err, 'scope');
    }
  }
  Object.freeze(info.attrs);
  info.schemaUrl = str(container, 'schemaUrl', 'schema_url');
  return info;
}
