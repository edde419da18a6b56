/**
 * RowBinary encoding of row objects, compiled per table from the table's real structure (`system.columns`).
 *
 * Why: the engine reads RowBinary several times faster than JSONEachRow (no text parsing of maps and
 * timestamps), which is what bounds ingest on a small machine. Row objects are those of `otlp/rows.ts`:
 * 64-bit integers and DateTime64 values are decimal strings (exact), Maps are plain objects, Nested columns
 * are the flattened `Parent.Child` arrays. A column missing from a row gets the type's default (0, '', [], {}).
 */

type Encode = (w: Writer, v: unknown) => void;

export class Writer {
  buf: Buffer;
  pos = 0;
  constructor(size = 1 << 20) {
    this.buf = Buffer.allocUnsafe(size);
  }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  varint(n: number): void {
    this.ensure(10);
    while (n > 0x7f) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }
  string(s: string): void {
    // A string's UTF-8 length is at most 3 bytes per UTF-16 unit: write after a worst-case varint slot, then
    // move it back if the real prefix is shorter (rare: only strings of 43+ characters whose prefix shrinks).
    const max = s.length * 3;
    this.ensure(max + 5);
    if (max < 128) {
      const len = this.buf.write(s, this.pos + 1, 'utf8');
      this.buf[this.pos] = len;
      this.pos += 1 + len;
      return;
    }
    const len = Buffer.byteLength(s, 'utf8');
    this.varint(len);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
  u8(n: number): void {
    this.ensure(1);
    this.buf[this.pos++] = n & 0xff;
  }
  fixed(n: number, bytes: 2 | 4, signed: boolean): void {
    this.ensure(bytes);
    if (bytes === 2) this.pos = signed ? this.buf.writeInt16LE(n, this.pos) : this.buf.writeUInt16LE(n, this.pos);
    else this.pos = signed ? this.buf.writeInt32LE(n, this.pos) : this.buf.writeUInt32LE(n, this.pos);
  }
  int64(v: unknown, signed: boolean): void {
    this.ensure(8);
    let n: bigint;
    if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v);
    else if (typeof v === 'string' && v !== '') n = BigInt(v);
    else if (typeof v === 'bigint') n = v;
    else n = 0n;
    this.pos = signed ? this.buf.writeBigInt64LE(BigInt.asIntN(64, n), this.pos) : this.buf.writeBigUInt64LE(BigInt.asUintN(64, n), this.pos);
  }
  float64(v: unknown): void {
    this.ensure(8);
    this.pos = this.buf.writeDoubleLE(typeof v === 'number' ? v : Number(v ?? 0), this.pos);
  }
  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** Splits `A, B(C, D), E` at top-level commas. */
function topLevel(args: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < args.length; i++) {
    const c = args[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(args.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(args.slice(start).trim());
  return out;
}

/** Compiles one ClickHouse type to an encoder. Throws on types the tables do not use, so a schema change is loud. */
export function encoderFor(type: string): Encode {
  const m = /^(\w+)(?:\((.*)\))?$/s.exec(type.trim());
  if (!m) throw new Error(`cannot encode type ${type}`);
  const [, name, args] = m;
  switch (name) {
    case 'String':
      return (w, v) => w.string(typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : '');
    case 'LowCardinality':
      return encoderFor(args!); // RowBinary carries the inner type
    case 'Bool':
      return (w, v) => w.u8(v === true || v === 1 || v === 'true' ? 1 : 0);
    case 'UInt8':
    case 'Int8':
      return (w, v) => w.u8(Number(v ?? 0));
    case 'UInt16':
      return (w, v) => w.fixed(Number(v ?? 0), 2, false);
    case 'Int16':
      return (w, v) => w.fixed(Number(v ?? 0), 2, true);
    case 'UInt32':
      return (w, v) => w.fixed(Number(v ?? 0), 4, false);
    case 'Int32':
      return (w, v) => w.fixed(Number(v ?? 0), 4, true);
    case 'UInt64':
      return (w, v) => w.int64(v, false);
    case 'Int64':
      return (w, v) => w.int64(v, true);
    case 'Float64':
      return (w, v) => w.float64(v);
    case 'DateTime64': {
      if (topLevel(args ?? '')[0] !== '9') throw new Error(`only DateTime64(9) is supported, got ${type}`);
      return (w, v) => w.int64(v, true); // nanoseconds since the epoch, as the row carries them
    }
    case 'DateTime':
      return (w, v) => w.fixed(Number(v ?? 0), 4, false);
    case 'Array': {
      const item = encoderFor(args!);
      return (w, v) => {
        const a = Array.isArray(v) ? v : [];
        w.varint(a.length);
        for (const x of a) item(w, x);
      };
    }
    case 'Map': {
      const [k, val] = topLevel(args!);
      const key = encoderFor(k!);
      const value = encoderFor(val!);
      return (w, v) => {
        if (v === null || typeof v !== 'object') {
          w.varint(0);
          return;
        }
        const keys = Object.keys(v);
        w.varint(keys.length);
        for (const kk of keys) {
          key(w, kk);
          value(w, (v as Record<string, unknown>)[kk]);
        }
      };
    }
    default:
      throw new Error(`cannot encode type ${type}`);
  }
}

export interface Column {
  name: string;
  type: string;
}

/** Encodes rows as the table's insertable columns (no MATERIALIZED/ALIAS), in table order. */
export interface TableCodec {
  columns: Column[];
  encode(rows: readonly unknown[]): Buffer;
}

export function compileCodec(columns: Column[]): TableCodec {
  const encoders = columns.map((c) => encoderFor(c.type));
  const names = columns.map((c) => c.name);
  const n = columns.length;
  return {
    columns,
    encode(rows) {
      const w = new Writer(Math.max(1 << 16, rows.length * 1024));
      for (const row of rows) {
        const r = row as Record<string, unknown>;
        for (let i = 0; i < n; i++) encoders[i]!(w, r[names[i]!]);
      }
      return w.result();
    },
  };
}
