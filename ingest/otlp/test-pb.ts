/**
 * Test helper: hand-crafts protobuf bytes for what the official serializers cannot produce (summaries, unknown fields,
 * values beyond 2^53, broken input). `msg(3, ...)` is field 3 holding a message made of the given fields.
 *
 * The tests spell field numbers out (`msg(9, ...)` is a span attribute) on purpose: they are the independent check of
 * descriptor.ts, which the decoders read their numbers from. Helpers here that build whole messages take theirs from
 * the descriptor.
 */
import { AnyValue, KeyValue } from './descriptor.ts';

const enc = new TextEncoder();

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function rawVarint(v: number | bigint): Uint8Array {
  let n = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  while (n >= 0x80n) {
    out.push(Number(n & 0x7fn) | 0x80);
    n >>= 7n;
  }
  out.push(Number(n));
  return Uint8Array.from(out);
}

export function tag(no: number, wireType: number): Uint8Array {
  return rawVarint((no << 3) | wireType);
}

export function varint(no: number, v: number | bigint | boolean): Uint8Array {
  return concat(tag(no, 0), rawVarint(typeof v === 'boolean' ? (v ? 1 : 0) : v));
}

export function sint32(no: number, v: number): Uint8Array {
  return varint(no, ((v << 1) ^ (v >> 31)) >>> 0);
}

export function fixed64(no: number, v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  return concat(tag(no, 1), b);
}

export function fixed32(no: number, v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return concat(tag(no, 5), b);
}

export function double(no: number, v: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, v, true);
  return concat(tag(no, 1), b);
}

export function bytes(no: number, data: Uint8Array | string): Uint8Array {
  const d = typeof data === 'string' ? enc.encode(data) : data;
  return concat(tag(no, 2), rawVarint(d.length), d);
}

export function msg(no: number, ...fields: Uint8Array[]): Uint8Array {
  return bytes(no, concat(...fields));
}

export function hex(s: string): Uint8Array {
  return Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
}

/** A KeyValue with a string value, as field `no` of the enclosing message. */
export function strAttr(no: number, key: string, value: string): Uint8Array {
  return msg(no, bytes(KeyValue.key.no, key), msg(KeyValue.value.no, bytes(AnyValue.stringValue.no, value)));
}
