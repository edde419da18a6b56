/**
 * Protobuf decoding of opentelemetry.proto.common.v1 / resource.v1 messages shared by the three signals (field
 * numbers in descriptor.ts). AnyValue is a oneof, so the last member on the wire wins.
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
import {
  AnyValue,
  ArrayValue,
  InstrumentationScope,
  KeyValue,
  KeyValueList,
  Resource,
  known,
  tags,
} from './descriptor.ts';
import { OtlpDecodeError, within } from './errors.ts';
import type { ScopeInfo } from './row-builders.ts';
import type { Attrs } from './rows.ts';
import { i64ToDecimal, sameWords, type Reader } from './wire.ts';

/** Arrays and kvlists nest; bound it so hostile input cannot exhaust the stack. */
export const MAX_VALUE_DEPTH = 64;

// Tags and known fields, derived once into this module's constants (see descriptor.ts on why local).
const ANY = tags(AnyValue);
const ANY_KNOWN = known(AnyValue);
const ARRAY = tags(ArrayValue);
const ARRAY_KNOWN = known(ArrayValue);
const KVLIST = tags(KeyValueList);
const KVLIST_KNOWN = known(KeyValueList);
const KV = tags(KeyValue);
const KV_KNOWN = known(KeyValue);
const SCOPE = tags(InstrumentationScope);
const SCOPE_KNOWN = known(InstrumentationScope);
const RESOURCE = tags(Resource);
const RESOURCE_KNOWN = known(Resource);

/** AnyValue `[pos, end)` → its AsString form. */
export function anyValueString(r: Reader, end: number): string {
  let out = '';
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case ANY.stringValue:
        out = r.string(end);
        break;
      case ANY.boolValue:
        out = r.bool() ? 'true' : 'false';
        break;
      case ANY.intValue:
        r.v64();
        out = i64ToDecimal(r.lo, r.hi);
        break;
      case ANY.doubleValue:
        out = formatDouble(r.double());
        break;
      case ANY.arrayValue: {
        const e = r.lenEnd(end);
        try {
          out = marshalArray(arrayRaw(r, e, 1));
        } catch (err) {
          throw within(err, 'arrayValue');
        }
        break;
      }
      case ANY.kvlistValue: {
        const e = r.lenEnd(end);
        try {
          out = marshalMap(kvlistRaw(r, e, 1));
        } catch (err) {
          throw within(err, 'kvlistValue');
        }
        break;
      }
      case ANY.bytesValue: {
        const e = r.lenEnd(end);
        out = encodeBase64(r.buf, r.pos, e);
        r.pos = e;
        break;
      }
      default:
        r.unknown(tag, end, ANY_KNOWN);
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
      case ANY.stringValue:
        out = r.string(end);
        break;
      case ANY.boolValue:
        out = r.bool();
        break;
      case ANY.intValue:
        r.v64();
        out = new IntValue(i64ToDecimal(r.lo, r.hi));
        break;
      case ANY.doubleValue:
        out = r.double();
        break;
      case ANY.arrayValue: {
        const e = r.lenEnd(end);
        try {
          out = arrayRaw(r, e, depth + 1);
        } catch (err) {
          throw within(err, 'arrayValue');
        }
        break;
      }
      case ANY.kvlistValue: {
        const e = r.lenEnd(end);
        try {
          out = kvlistRaw(r, e, depth + 1);
        } catch (err) {
          throw within(err, 'kvlistValue');
        }
        break;
      }
      case ANY.bytesValue: {
        const e = r.lenEnd(end);
        out = new BytesValue(encodeBase64(r.buf, r.pos, e));
        r.pos = e;
        break;
      }
      default:
        r.unknown(tag, end, ANY_KNOWN);
    }
  }
  r.close(end);
  return out;
}

function arrayRaw(r: Reader, end: number, depth: number): RawValue[] {
  const out: RawValue[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ARRAY.values) {
      const e = r.lenEnd(end);
      try {
        out.push(anyValueRaw(r, e, depth));
      } catch (err) {
        throw within(err, `values[${out.length}]`);
      }
    } else r.unknown(tag, end, ARRAY_KNOWN);
  }
  r.close(end);
  return out;
}

function kvlistRaw(r: Reader, end: number, depth: number): RawMap {
  const out: RawMap = new Map();
  let i = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === KVLIST.values) {
      const e = r.lenEnd(end);
      try {
        let key = '';
        let value: RawValue = null;
        while (r.pos < e) {
          const t = r.tag();
          if (t === KV.key) key = r.string(e);
          else if (t === KV.value) {
            const ve = r.lenEnd(e);
            try {
              value = anyValueRaw(r, ve, depth);
            } catch (err) {
              throw within(err, 'value');
            }
          } else r.unknown(t, e, KV_KNOWN);
        }
        r.close(e);
        out.set(key, value);
      } catch (err) {
        throw within(err, `values[${i}]`);
      }
      i++;
    } else r.unknown(tag, end, KVLIST_KNOWN);
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
      if (tag === KV.key) key = r.string(e);
      else if (tag === KV.value) {
        const ve = r.lenEnd(e);
        try {
          value = anyValueString(r, ve);
        } catch (err) {
          throw within(err, 'value');
        }
      } else r.unknown(tag, e, KV_KNOWN);
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

/** Resource `[pos, end)`; attributes accumulate into `attrs` (a repeated `resource` field merges). */
export function resourceInto(r: Reader, end: number, attrs: Attrs): void {
  let ai = Object.keys(attrs).length;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === RESOURCE.attributes) attributeInto(r, end, attrs, 'attributes', ai++);
    else r.unknown(tag, end, RESOURCE_KNOWN);
  }
  r.close(end);
}

/** InstrumentationScope `[pos, end)` merged into `scope`. */
export function scopeInto(r: Reader, end: number, scope: ScopeInfo): void {
  let ai = Object.keys(scope.attrs).length;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case SCOPE.name:
        scope.name = r.string(end);
        break;
      case SCOPE.version:
        scope.version = r.string(end);
        break;
      case SCOPE.attributes:
        attributeInto(r, end, scope.attrs, 'attributes', ai++);
        break;
      case SCOPE.droppedAttributesCount:
        scope.droppedAttributesCount = r.i32() >>> 0;
        break;
      default:
        r.unknown(tag, end, SCOPE_KNOWN);
    }
  }
  r.close(end);
}

/** Reads a whole `repeated KeyValue` element only to validate it (fields the tables do not keep, e.g. Metric.metadata). */
export function skipAttribute(r: Reader, limit: number, field: string, index: number): void {
  attributeInto(r, limit, {}, field, index);
}
