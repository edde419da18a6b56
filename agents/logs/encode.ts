/**
 * OTLP `ExportLogsServiceRequest` protobuf, written directly (no OTLP/JSON step): the agent's hot path at tens of
 * thousands of lines per second. Sizes are computed first, then every byte is written once into one buffer.
 *
 * The encoding is a pure function of its input (fields in a fixed order, attributes in the order given): the same
 * records always make the same bytes. The log source relies on it: after a restart it rebuilds a batch that was
 * sent but not acknowledged into the same request, which the gateway recognises as a retry (its write-ahead log
 * remembers request hashes) instead of storing it twice.
 *
 * Values are JSON-like: string, boolean, number (an integer within ±2^53 is an `int_value`, else a double),
 * null (an empty AnyValue), arrays and plain objects (a kvlist).
 */

export type Value = string | number | boolean | null | readonly Value[] | { readonly [key: string]: Value };

export interface Attr {
  key: string;
  value: Value;
}

export interface OutRecord {
  /** ns since the epoch, 0n when unknown. */
  timeNs: bigint;
  observedNs: bigint;
  severityNumber: number;
  severityText: string;
  body: string;
  attributes: readonly Attr[];
}

export interface OutBatch {
  resource: readonly Attr[];
  scopeName: string;
  records: readonly OutRecord[];
}

/** UTF-8 length; short ASCII strings (keys, levels, small values) are measured here, without a native call. */
function utf8(s: string): number {
  if (s.length > 32) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return s.length;
}

function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let size = 5;
  n = Math.floor(n / 0x800000000);
  while (n > 0) {
    size++;
    n = Math.floor(n / 128);
  }
  return size;
}

const lenField = (payload: number) => 1 + varintSize(payload) + payload;

// Sizes of arrays and kvlists are cached by object, so the write pass does not size them again.

function valueSize(v: Value, cache: Map<object, number>): number {
  // AnyValue message body size.
  if (typeof v === 'string') return lenField(utf8(v));
  if (typeof v === 'boolean') return 2;
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return 1 + int64Size(v);
    return 9;
  }
  if (v === null) return 0;
  if (Array.isArray(v)) {
    let inner = 0;
    for (const x of v as readonly Value[]) inner += lenField(valueSize(x, cache));
    cache.set(v, inner);
    return lenField(inner);
  }
  let inner = 0;
  for (const [k, x] of Object.entries(v as Record<string, Value>)) inner += lenField(kvSize(k, x, cache));
  cache.set(v, inner);
  return lenField(inner);
}

function int64Size(v: number): number {
  return v < 0 ? 10 : varintSize(v);
}

function kvSize(key: string, value: Value, cache: Map<object, number>): number {
  return lenField(utf8(key)) + lenField(valueSize(value, cache));
}

class Out {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  byte(b: number) {
    this.buf[this.pos++] = b;
  }
  varint(n: number) {
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }
  int64(n: number) {
    if (n >= 0) return this.varint(n);
    let b = BigInt.asUintN(64, BigInt(n));
    while (b >= 0x80n) {
      this.buf[this.pos++] = Number(b & 0x7fn) | 0x80;
      b >>= 7n;
    }
    this.buf[this.pos++] = Number(b);
  }
  tag(no: number, wire: number) {
    this.varint((no << 3) | wire);
  }
  str(no: number, s: string, n = utf8(s)) {
    this.tag(no, 2);
    this.varint(n);
    if (n === s.length && n <= 32) {
      // ASCII (n counts bytes, s.length UTF-16 units: equal only for ASCII): no native call for a few bytes.
      const buf = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
      this.pos = p;
    } else this.pos += this.buf.write(s, this.pos, n, 'utf8');
  }
  header(no: number, size: number) {
    this.tag(no, 2);
    this.varint(size);
  }
  fixed64(no: number, v: bigint) {
    this.tag(no, 1);
    this.buf.writeBigUInt64LE(v, this.pos);
    this.pos += 8;
  }
  double(no: number, v: number) {
    this.tag(no, 1);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }
}

function writeValue(o: Out, v: Value, cache: Map<object, number>): void {
  if (typeof v === 'string') return o.str(1, v);
  if (typeof v === 'boolean') {
    o.tag(2, 0);
    return o.byte(v ? 1 : 0);
  }
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) {
      o.tag(3, 0);
      return o.int64(v);
    }
    return o.double(4, v);
  }
  if (v === null) return;
  if (Array.isArray(v)) {
    o.header(5, cache.get(v)!);
    for (const x of v as readonly Value[]) {
      o.header(1, valueSizeCached(x, cache));
      writeValue(o, x, cache);
    }
    return;
  }
  o.header(6, cache.get(v)!);
  for (const [k, x] of Object.entries(v as Record<string, Value>)) {
    o.header(1, kvSize(k, x, cache));
    writeKv(o, k, x, cache);
  }
}

function valueSizeCached(v: Value, cache: Map<object, number>): number {
  if (v !== null && typeof v === 'object') return lenField(cache.get(v)!);
  return valueSize(v, cache);
}

function writeKv(o: Out, key: string, value: Value, cache: Map<object, number>): void {
  o.str(1, key);
  o.header(2, valueSizeCached(value, cache));
  writeValue(o, value, cache);
}

function attrsSize(attrs: readonly Attr[], fieldSizes: number[], cache: Map<object, number>): number {
  let total = 0;
  for (const a of attrs) {
    const s = kvSize(a.key, a.value, cache);
    fieldSizes.push(s);
    total += lenField(s);
  }
  return total;
}

function writeAttrs(o: Out, no: number, attrs: readonly Attr[], sizes: number[], at: { i: number }, cache: Map<object, number>): void {
  for (const a of attrs) {
    o.header(no, sizes[at.i++]!);
    writeKv(o, a.key, a.value, cache);
  }
}

function recordSize(r: OutRecord, sizes: number[], bodyLens: number[], cache: Map<object, number>): number {
  let s = 0;
  if (r.timeNs !== 0n) s += 9;
  if (r.severityNumber !== 0) s += 1 + varintSize(r.severityNumber);
  if (r.severityText !== '') s += lenField(utf8(r.severityText));
  const bodyLen = utf8(r.body);
  bodyLens.push(bodyLen);
  s += lenField(lenField(bodyLen)); // body AnyValue{string_value}
  s += attrsSize(r.attributes, sizes, cache);
  if (r.observedNs !== 0n) s += 9;
  return s;
}

/** Upper bound of the encoded size of one record, for batching decisions before encoding. */
export function estimateRecordBytes(r: OutRecord): number {
  let s = 48 + r.body.length * 3 + r.severityText.length;
  for (const a of r.attributes) s += 8 + a.key.length * 3 + (typeof a.value === 'string' ? a.value.length * 3 : 32);
  return s;
}

export function encodeLogs(batch: OutBatch): Buffer {
  const cache = new Map<object, number>();
  const resourceSizes: number[] = [];
  const resourceInner = attrsSize(batch.resource, resourceSizes, cache);
  const recordSizes: number[] = [];
  const attrSizes: number[] = [];
  const bodyLens: number[] = [];
  let recordsTotal = 0;
  for (const r of batch.records) {
    const s = recordSize(r, attrSizes, bodyLens, cache);
    recordSizes.push(s);
    recordsTotal += lenField(s);
  }
  const scopeInner = lenField(utf8(batch.scopeName));
  const scopeLogs = lenField(scopeInner) + recordsTotal;
  const resourceLogs = lenField(resourceInner) + lenField(scopeLogs);
  const total = lenField(resourceLogs);

  const o = new Out(Buffer.allocUnsafe(total));
  o.header(1, resourceLogs); // ExportLogsServiceRequest.resource_logs
  o.header(1, resourceInner); // ResourceLogs.resource
  writeAttrs(o, 1, batch.resource, resourceSizes, { i: 0 }, cache);
  o.header(2, scopeLogs); // ResourceLogs.scope_logs
  o.header(1, scopeInner); // ScopeLogs.scope
  o.str(1, batch.scopeName);
  const at = { i: 0 };
  for (let i = 0; i < batch.records.length; i++) {
    const r = batch.records[i]!;
    o.header(2, recordSizes[i]!); // ScopeLogs.log_records
    if (r.timeNs !== 0n) o.fixed64(1, r.timeNs);
    if (r.severityNumber !== 0) {
      o.tag(2, 0);
      o.varint(r.severityNumber);
    }
    if (r.severityText !== '') o.str(3, r.severityText);
    const bodyLen = bodyLens[i]!;
    o.header(5, lenField(bodyLen));
    o.str(1, r.body, bodyLen);
    writeAttrs(o, 6, r.attributes, attrSizes, at, cache);
    if (r.observedNs !== 0n) o.fixed64(11, r.observedNs);
  }
  if (o.pos !== total) throw new Error(`OTLP logs encoder: wrote ${o.pos} bytes, sized ${total}`);
  return o.buf;
}
