/**
 * Protobuf decoding of opentelemetry.proto.common.v1 / resource.v1 messages shared by the three signals.
 *
 * Field numbers (opentelemetry-proto common/v1/common.proto, resource/v1/resource.proto):
 *   AnyValue: string_value 1, bool_value 2, int_value 3 (int64), double_value 4, array_value 5, kvlist_value 6,
 *             bytes_value 7 — a oneof, so the last one on the wire wins.
 *   ArrayValue: values 1. KeyValueList: values 1. KeyValue: key 1, value 2.
 *   InstrumentationScope: name 1, version 2, attributes 3, dropped_attributes_count 4.
 *   Resource: attributes 1, dropped_attributes_count 2, entity_refs 3.
 */
import {
  BytesValue,
  IntValue,
  encodeBase64,
  formatDouble,
  marshalArray,
  marshalMap,
  setAttr,
  type RawMap,
  type RawValue,
} from './attributes.ts';
import { OtlpDecodeError, within } from './errors.ts';
import type { Attrs } from './rows.ts';
import { I64, LEN, VARINT, fields, i64ToDecimal, sameWords, type Reader } from './wire.ts';

/** Arrays and kvlists nest; bound it so hostile input cannot exhaust the stack. */
export const MAX_VALUE_DEPTH = 64;

const ANY_VALUE = fields({
  1: ['stringValue', LEN],
  2: ['boolValue', VARINT],
  3: ['intValue', VARINT],
  4: ['doubleValue', I64],
  5: ['arrayValue', LEN],
  6: ['kvlistValue', LEN],
  7: ['bytesValue', LEN],
});
const VALUES = fields({ 1: ['values', LEN] });
const KEY_VALUE = fields({ 1: ['key', LEN], 2: ['value', LEN] });
const SCOPE = fields({ 1: ['name', LEN], 2: ['version', LEN], 3: ['attributes', LEN], 4: ['droppedAttributesCount', VARINT] });
const RESOURCE = fields({ 1: ['attributes', LEN], 2: ['droppedAttributesCount', VARINT], 3: ['entityRefs', LEN] });

/** AnyValue `[pos, end)` → its AsString form. */
export function anyValueString(r: Reader, end: number): string {
  let out = '';
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 10:
        out = r.string(end);
        break;
      case 16:
        out = r.bool() ? 'true' : 'false';
        break;
      case 24:
        r.v64();
        out = i64ToDecimal(r.lo, r.hi);
        break;
      case 33:
        out = formatDouble(r.double());
        break;
      case 42: {
        const e = r.lenEnd(end);
        try {
          out = marshalArray(arrayRaw(r, e, 1));
        } catch (err) {
          throw within(err, 'arrayValue');
        }
        break;
      }
      case 50: {
        const e = r.lenEnd(end);
        try {
          out = marshalMap(kvlistRaw(r, e, 1));
        } catch (err) {
          throw within(err, 'kvlistValue');
        }
        break;
      }
      case 58: {
        const e = r.lenEnd(end);
        out = encodeBase64(r.buf, r.pos, e);
        r.pos = e;
        break;
      }
      default:
        r.unknown(tag, end, ANY_VALUE);
    }
  }
  r.close(end);
  return out;
}

function anyValueRaw(r: Reader, end: number, depth: number): RawValue {
  if (depth > MAX_VALUE_DEPTH) throw new OtlpDecodeError('', `values nested deeper than ${MAX_VALUE_DEPTH}`);
  let out: RawValue = null;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 10:
        out = r.string(end);
        break;
      case 16:
        out = r.bool();
        break;
      case 24:
        r.v64();
        out = new IntValue(i64ToDecimal(r.lo, r.hi));
        break;
      case 33:
        out = r.double();
        break;
      case 42: {
        const e = r.lenEnd(end);
        try {
          out = arrayRaw(r, e, depth + 1);
        } catch (err) {
          throw within(err, 'arrayValue');
        }
        break;
      }
      case 50: {
        const e = r.lenEnd(end);
        try {
          out = kvlistRaw(r, e, depth + 1);
        } catch (err) {
          throw within(err, 'kvlistValue');
        }
        break;
      }
      case 58: {
        const e = r.lenEnd(end);
        out = new BytesValue(encodeBase64(r.buf, r.pos, e));
        r.pos = e;
        break;
      }
      default:
        r.unknown(tag, end, ANY_VALUE);
    }
  }
  r.close(end);
  return out;
}

function arrayRaw(r: Reader, end: number, depth: number): RawValue[] {
  const out: RawValue[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) {
      const e = r.lenEnd(end);
      try {
        out.push(anyValueRaw(r, e, depth));
      } catch (err) {
        throw within(err, `values[${out.length}]`);
      }
    } else r.unknown(tag, end, VALUES);
  }
  r.close(end);
  return out;
}

function kvlistRaw(r: Reader, end: number, depth: number): RawMap {
  const out: RawMap = new Map();
  let i = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) {
      const e = r.lenEnd(end);
      try {
        let key = '';
        let value: RawValue = null;
        while (r.pos < e) {
          const t = r.tag();
          if (t === 10) key = r.string(e);
          else if (t === 18) {
            const ve = r.lenEnd(e);
            try {
              value = anyValueRaw(r, ve, depth);
            } catch (err) {
              throw within(err, 'value');
            }
          } else r.unknown(t, e, KEY_VALUE);
        }
        r.close(e);
        out.set(key, value);
      } catch (err) {
        throw within(err, `values[${i}]`);
      }
      i++;
    } else r.unknown(tag, end, VALUES);
  }
  r.close(end);
  return out;
}

/**
 * Whole attributes repeat even more than their keys (`http.request.method` = `GET`, the same `server.address` on every
 * span): AsString is a pure function of a KeyValue's bytes, so a direct-mapped cache from those bytes to the decoded
 * key and string skips both the parsing and the string decoding. Only successfully decoded entries are cached, and
 * none from a validate-only read.
 */
const KV_CACHE_SIZE = 4096; // 12 bits, see `slot`
const KV_CACHE_MAX = 96;
const kvLength = new Int32Array(KV_CACHE_SIZE).fill(-1);
const kvBytes = new Uint8Array(KV_CACHE_SIZE * KV_CACHE_MAX);
const kvWords = new Int32Array(kvBytes.buffer);
const kvKey: string[] = new Array<string>(KV_CACHE_SIZE).fill('');
const kvValue: string[] = new Array<string>(KV_CACHE_SIZE).fill('');
/** Second chance, as in wire.ts: a one-off attribute does not evict one that keeps repeating. */
const kvUsed = new Uint8Array(KV_CACHE_SIZE);

/** Reads the KeyValue of a `repeated KeyValue` field (tag already read) as entry `index` of `field`. */
export function attributeInto(r: Reader, limit: number, attrs: Attrs, field: string, index: number): void {
  const e = r.lenEnd(limit);
  const buf = r.buf;
  const start = r.pos;
  const n = e - start;
  let slot = -1;
  if (n > 2 && n <= KV_CACHE_MAX) {
    const h = (n << 24) ^ (buf[e - 1]! << 16) ^ (buf[e - 2]! << 8) ^ buf[start + (n >> 1)]! ^ (buf[start + 2]! << 4);
    slot = Math.imul(h, 0x9e3779b1) >>> 20;
    const base = slot * KV_CACHE_MAX;
    if (kvLength[slot] === n && sameWords(r.view, start, kvWords, base >> 2, n)) {
      let i = n & ~3;
      while (i < n && kvBytes[base + i] === buf[start + i]) i++;
      if (i === n) {
        kvUsed[slot] = 1;
        setAttr(attrs, kvKey[slot]!, kvValue[slot]!);
        r.pos = e;
        return;
      }
    }
  }
  let key = '';
  let value = '';
  try {
    while (r.pos < e) {
      const tag = r.tag();
      if (tag === 10) key = r.string(e);
      else if (tag === 18) {
        const ve = r.lenEnd(e);
        try {
          value = anyValueString(r, ve);
        } catch (err) {
          throw within(err, 'value');
        }
      } else r.unknown(tag, e, KEY_VALUE);
    }
    r.close(e);
  } catch (err) {
    throw within(err, `${field}[${index}]`);
  }
  setAttr(attrs, key, value);
  if (slot < 0 || r.validateOnly) return; // its empty strings must never be served to a real decode
  if (kvUsed[slot] === 1) {
    kvUsed[slot] = 0;
    return;
  }
  kvLength[slot] = n;
  kvKey[slot] = key;
  kvValue[slot] = value;
  const base = slot * KV_CACHE_MAX;
  for (let i = 0; i < n; i++) kvBytes[base + i] = buf[start + i]!;
}

export interface ResourceInfo {
  /** Shared by every row of the resource: frozen so a consumer cannot change them all by accident. */
  attrs: Attrs;
  /** AsString of the `service.name` attribute, `''` without one (exporter's `GetServiceName`). */
  serviceName: string;
}

/** Resource `[pos, end)`; attributes accumulate into `attrs` (a repeated `resource` field merges). */
export function resourceInto(r: Reader, end: number, attrs: Attrs): void {
  let ai = Object.keys(attrs).length;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) attributeInto(r, end, attrs, 'attributes', ai++);
    else r.unknown(tag, end, RESOURCE);
  }
  r.close(end);
}

export function finishResource(attrs: Attrs): ResourceInfo {
  const serviceName = Object.hasOwn(attrs, 'service.name') ? attrs['service.name']! : '';
  return { attrs: Object.freeze(attrs), serviceName };
}

export interface ScopeInfo {
  name: string;
  version: string;
  attrs: Attrs;
  droppedAttributesCount: number;
}

/** InstrumentationScope `[pos, end)` merged into `scope`. */
export function scopeInto(r: Reader, end: number, scope: ScopeInfo): void {
  let ai = Object.keys(scope.attrs).length;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 10:
        scope.name = r.string(end);
        break;
      case 18:
        scope.version = r.string(end);
        break;
      case 26:
        attributeInto(r, end, scope.attrs, 'attributes', ai++);
        break;
      case 32:
        scope.droppedAttributesCount = r.i32() >>> 0;
        break;
      default:
        r.unknown(tag, end, SCOPE);
    }
  }
  r.close(end);
}

export function newScope(): ScopeInfo {
  return { name: '', version: '', attrs: {}, droppedAttributesCount: 0 };
}

/** Reads a whole `repeated KeyValue` element only to validate it (fields the tables do not keep, e.g. Metric.metadata). */
export function skipAttribute(r: Reader, limit: number, field: string, index: number): void {
  attributeInto(r, limit, {}, field, index);
}
