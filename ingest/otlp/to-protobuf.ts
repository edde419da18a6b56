/**
 * OTLP/JSON → OTLP protobuf (`Export*ServiceRequest` bytes), for the Kafka transport: topics carry `otlp_proto`
 * whatever encoding the client sent. Runs only on requests `decodeJson` already accepted, so shapes are valid;
 * the transcoding itself is driven by the message tables of descriptor.ts.
 *
 * JSON specifics handled (OTLP/JSON spec): lowerCamelCase or snake_case keys, trace/span ids as hex, other bytes
 * as base64, enums as numbers or names, 64-bit integers as strings or numbers (kept exact via `parseExact`).
 * Unknown keys are dropped, as the JSON decoder ignores them too.
 */
import { SIGNALS, scalarWireType, wireType, type FieldType, type Message } from './descriptor.ts';
import { ExactNumber, parseExact } from './json-parse.ts';
import type { Signal } from './rows.ts';

const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

class Writer {
  #chunks: number[] = [];
  byte(b: number): void {
    this.#chunks.push(b);
  }
  varint(v: bigint): void {
    let n = BigInt.asUintN(64, v);
    while (n >= 0x80n) {
      this.#chunks.push(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.#chunks.push(Number(n));
  }
  bytes(b: Uint8Array): void {
    for (const x of b) this.#chunks.push(x);
  }
  fixed(v: bigint, size: 4 | 8): void {
    let n = BigInt.asUintN(size * 8, v);
    for (let i = 0; i < size; i++) {
      this.#chunks.push(Number(n & 0xffn));
      n >>= 8n;
    }
  }
  double(v: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.bytes(b);
  }
  result(): Uint8Array {
    return Uint8Array.from(this.#chunks);
  }
}

function int(v: unknown): bigint {
  if (v instanceof ExactNumber) return BigInt(v.text);
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'string' && v.trim() !== '') return BigInt(v.trim());
  return 0n;
}

function num(v: unknown): number {
  if (v instanceof ExactNumber) return Number(v.text);
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return Number(v);
}

function writeScalar(w: Writer, kind: FieldType, v: unknown): void {
  if (typeof kind !== 'string') {
    if ('enum' in kind) w.varint(BigInt(typeof v === 'string' ? (kind.enum[v] ?? Number(v)) : num(v)));
    else w.bytes(encode(kind.message(), v));
    return;
  }
  switch (kind) {
    case 'string': {
      const b = Buffer.from(String(v));
      w.varint(BigInt(b.length));
      w.bytes(b);
      return;
    }
    case 'id':
    case 'bytes': {
      // OTLP/JSON: trace and span ids in hex, other bytes in base64.
      const b = Buffer.from(String(v), kind === 'id' ? 'hex' : 'base64');
      w.varint(BigInt(b.length));
      w.bytes(b);
      return;
    }
    case 'bool':
      w.varint(v === true || v === 'true' ? 1n : 0n);
      return;
    case 'double':
      w.double(num(v));
      return;
    case 'uint32':
    case 'int64':
    case 'uint64':
      w.varint(int(v));
      return;
    case 'sint32': {
      const n = int(v);
      w.varint(n >= 0n ? n << 1n : (-n << 1n) - 1n);
      return;
    }
    case 'fixed64':
    case 'sfixed64':
      w.fixed(int(v), 8);
      return;
    case 'fixed32':
      w.fixed(int(v), 4);
      return;
  }
}

function encode(d: Message, value: unknown): Uint8Array {
  const w = new Writer();
  if (value === null || typeof value !== 'object') return w.result();
  for (const [rawKey, v] of Object.entries(value)) {
    // Own keys only: an unknown key such as `constructor` must not find Object.prototype's.
    const name = Object.hasOwn(d, rawKey) ? rawKey : camel(rawKey);
    const field = Object.hasOwn(d, name) ? d[name] : undefined;
    if (!field || v === null || v === undefined) continue;
    const { no, type: kind, repeated, packed } = field;
    const items = repeated ? (Array.isArray(v) ? v : []) : [v];
    if (packed) {
      if (items.length === 0) continue;
      const inner = new Writer();
      for (const item of items) writeScalar(inner, kind, item);
      const bytes = inner.result();
      w.varint(BigInt((no << 3) | wireType(field)));
      w.varint(BigInt(bytes.length));
      w.bytes(bytes);
      continue;
    }
    for (const item of items) {
      w.varint(BigInt((no << 3) | scalarWireType(kind)));
      if (typeof kind !== 'string' && 'message' in kind) {
        const bytes = encode(kind.message(), item);
        w.varint(BigInt(bytes.length));
        w.bytes(bytes);
      } else writeScalar(w, kind, item);
    }
  }
  return w.result();
}

/** Transcodes an OTLP/JSON request the JSON decoder accepted into `Export*ServiceRequest` protobuf bytes. */
export function toProtobuf(signal: Signal, body: string | Uint8Array): Uint8Array {
  const text = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  return encode(SIGNALS[signal].request, parseExact(text));
}
