/**
 * OTLP `ExportLogsServiceRequest` protobuf, written directly (no OTLP/JSON step): the agent's hot path at tens of
 * thousands of lines per second. Sizes are computed first, then every byte is written once into one buffer.
 *
 * The encoding is a pure function of its input (fields in a fixed order, attributes in the order given): the same
 * records always make the same bytes. The log source relies on it: after a restart it rebuilds a batch that was
 * sent but not acknowledged into the same request, which the gateway recognises as a retry (its write-ahead log
 * remembers request hashes) instead of storing it twice.
 *
 * Records are encoded one by one as the log source closes them (`LogRecordsWriter.add`), into a buffer of a small
 * shared pool, and the request's headers (resource, scope) are written in front of them when the batch is sent
 * (`finish`). A batch lingers up to 200 ms for more records; kept as objects
 * (text, attributes, positions) for that long, tens of thousands of records a second outlived V8's young-generation
 * collections and were promoted, and the old generation grew to ~300 MB for ~20 MB of live records before a full
 * collection (`npm run bench -- agent`). As bytes they are a few buffers, and the objects die young.
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
  constructor(public buf: Buffer) {}
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

function recordSize(r: OutRecord, bodyLen: number, sizes: number[], cache: Map<object, number>): number {
  let s = 0;
  if (r.timeNs !== 0n) s += 9;
  if (r.severityNumber !== 0) s += 1 + varintSize(r.severityNumber);
  if (r.severityText !== '') s += lenField(utf8(r.severityText));
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

/** One LogRecord's fields (its `log_records` header written by the caller). */
function writeRecord(o: Out, r: OutRecord, bodyLen: number, attrSizes: number[], cache: Map<object, number>): void {
  if (r.timeNs !== 0n) o.fixed64(1, r.timeNs);
  if (r.severityNumber !== 0) {
    o.tag(2, 0);
    o.varint(r.severityNumber);
  }
  if (r.severityText !== '') o.str(3, r.severityText);
  o.header(5, lenField(bodyLen));
  o.str(1, r.body, bodyLen);
  writeAttrs(o, 6, r.attributes, attrSizes, { i: 0 }, cache);
  if (r.observedNs !== 0n) o.fixed64(11, r.observedNs);
}

/** Room kept before the first record for the request's headers (resource, scope), written last. */
const HEAD_ROOM = 4096;
/** Buffer sizes are multiples of this. */
const GRAIN = 64 * 1024;
/** Idle buffers kept for the next batches, at most this many bytes (the batches being built need about one each; complete ones are compressed); more are left to the garbage collector. */
const POOL_MAX_BYTES = 4 * 1024 * 1024;
const pool: Buffer[] = [];
let pooledBytes = 0;

const grains = (n: number) => Math.ceil(n / GRAIN) * GRAIN;

/** The smallest idle buffer of at least `min` bytes, or a new one. */
function takeBuffer(min: number): Buffer {
  let best = -1;
  for (let i = 0; i < pool.length; i++) if (pool[i]!.length >= min && (best === -1 || pool[i]!.length < pool[best]!.length)) best = i;
  if (best === -1) return Buffer.allocUnsafeSlow(grains(min));
  const b = pool[best]!;
  pool[best] = pool[pool.length - 1]!;
  pool.pop();
  pooledBytes -= b.length;
  return b;
}

/** Back to the pool; over its bound, smaller idle buffers make room for a larger one (the next batches need it). */
function giveBuffer(b: Buffer): void {
  while (pooledBytes + b.length > POOL_MAX_BYTES && pool.length > 0) {
    let small = 0;
    for (let i = 1; i < pool.length; i++) if (pool[i]!.length < pool[small]!.length) small = i;
    if (pool[small]!.length >= b.length) return;
    pooledBytes -= pool[small]!.length;
    pool[small] = pool[pool.length - 1]!;
    pool.pop();
  }
  if (pooledBytes + b.length > POOL_MAX_BYTES) return;
  pool.push(b);
  pooledBytes += b.length;
}

/**
 * The `log_records` of one batch, encoded as they are added (each exactly as `encodeLogs` writes it) into one
 * buffer from a small shared pool, behind room for the request's headers. `finish` writes the headers (resource,
 * scope) into that room and returns the request as a view of the buffer, valid until `release` gives the buffer
 * back: the request is never copied, and buffers are reused instead of left to the garbage collector (dead
 * buffers that lived through a young-generation collection wait for a full one, and the process's resident set
 * grew by tens of megabytes of them).
 */
export class LogRecordsWriter {
  #buf: Buffer | undefined;
  #pos = HEAD_ROOM;
  readonly #out = new Out(Buffer.alloc(0));
  readonly #attrSizes: number[] = [];
  readonly #cache = new Map<object, number>();
  #count = 0;
  #finished = false;
  readonly #sizeHint: number;

  /** `sizeHint`: the bytes the batch will likely take (its chain's last batch), so its buffer is rarely outgrown. */
  constructor(sizeHint = 0) {
    this.#sizeHint = sizeHint;
  }

  /** Records added. */
  get count(): number {
    return this.#count;
  }

  /** Encoded bytes of the records added. */
  get bytes(): number {
    return this.#pos - HEAD_ROOM;
  }

  add(r: OutRecord): void {
    if (this.#finished) throw new Error('OTLP logs encoder: add after finish');
    const attrSizes = this.#attrSizes;
    attrSizes.length = 0;
    this.#cache.clear();
    const bodyLen = utf8(r.body);
    const size = recordSize(r, bodyLen, attrSizes, this.#cache);
    const need = lenField(size);
    let buf = this.#buf;
    if (buf === undefined || buf.length - this.#pos < need) {
      const grown = takeBuffer(buf === undefined ? Math.max(this.#pos + need, HEAD_ROOM + this.#sizeHint) : Math.max(this.#pos + need, buf.length * 1.5));
      if (buf !== undefined) {
        buf.copy(grown, HEAD_ROOM, HEAD_ROOM, this.#pos);
        giveBuffer(buf);
      }
      this.#buf = buf = grown;
    }
    const o = this.#out;
    o.buf = buf;
    o.pos = this.#pos;
    o.header(2, size); // ScopeLogs.log_records
    writeRecord(o, r, bodyLen, attrSizes, this.#cache);
    if (o.pos - this.#pos !== need) throw new Error(`OTLP logs encoder: wrote ${o.pos - this.#pos} bytes of a record, sized ${need}`);
    this.#pos = o.pos;
    this.#count++;
  }

  /** The whole `ExportLogsServiceRequest`: a view of the writer's buffer, valid until `release`. */
  finish(resource: readonly Attr[], scopeName: string): Buffer {
    if (this.#finished) throw new Error('OTLP logs encoder: finished twice');
    this.#finished = true;
    const cache = new Map<object, number>();
    const resourceSizes: number[] = [];
    const resourceInner = attrsSize(resource, resourceSizes, cache);
    const scopeInner = lenField(utf8(scopeName));
    const records = this.#pos - HEAD_ROOM;
    const scopeLogs = lenField(scopeInner) + records;
    const resourceLogs = lenField(resourceInner) + lenField(scopeLogs);
    const total = lenField(resourceLogs);
    const head = total - records;
    let o: Out;
    if (head <= HEAD_ROOM && this.#buf !== undefined) {
      o = new Out(this.#buf);
      o.pos = HEAD_ROOM - head;
    } else {
      // Headers larger than the room (hundreds of resource attributes), or no record: a buffer of its own.
      o = new Out(Buffer.allocUnsafe(total));
    }
    const start = o.pos;
    o.header(1, resourceLogs); // ExportLogsServiceRequest.resource_logs
    o.header(1, resourceInner); // ResourceLogs.resource
    writeAttrs(o, 1, resource, resourceSizes, { i: 0 }, cache);
    o.header(2, scopeLogs); // ResourceLogs.scope_logs
    o.header(1, scopeInner); // ScopeLogs.scope
    o.str(1, scopeName);
    if (o.buf !== this.#buf && this.#buf !== undefined) o.pos += this.#buf.copy(o.buf, o.pos, HEAD_ROOM, this.#pos);
    else if (o.buf === this.#buf) o.pos = this.#pos;
    if (o.pos - start !== total) throw new Error(`OTLP logs encoder: wrote ${o.pos - start} bytes, sized ${total}`);
    return o.buf.subarray(start, o.pos);
  }

  /** Gives the buffer back (the request `finish` returned is invalid from here on); the writer is empty again. */
  release(): void {
    if (this.#buf !== undefined) giveBuffer(this.#buf);
    this.#buf = undefined;
    this.#pos = HEAD_ROOM;
    this.#count = 0;
    this.#finished = false;
  }
}

/** A whole batch at once: the same bytes as adding its records to a `LogRecordsWriter` and finishing it. */
export function encodeLogs(batch: OutBatch): Buffer {
  const w = new LogRecordsWriter();
  for (const r of batch.records) w.add(r);
  const body = Buffer.from(w.finish(batch.resource, batch.scopeName));
  w.release();
  return body;
}
