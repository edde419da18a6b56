/**
 * The OTLP `ExportMetricsServiceRequest` protobuf for converted remote_write series, written directly.
 *
 * Why not OTLP/JSON + `toProtobuf`: measured here, a 2,000-sample request took 57-93 ms that way (a JSON string
 * built, parsed again exactly, then written a byte at a time), ~35 µs a sample, a fifth of a core for a Prometheus
 * with 100k active series; this writer does the same in 2-7 ms (~1-3 µs a sample). Field numbers are opentelemetry-proto's
 * metrics.proto (the same as `#otlp/descriptor.ts`); the unit tests read the result back with the platform's decoder.
 * (The agent has the same kind of writer in agents/metrics/otlp-encode.ts; roles cannot share code outside the
 * shared layer, so a future move of one writer into #otlp would serve both.)
 */

export type Attr = [key: string, value: string];

export interface RwExemplar {
  attrs: Attr[];
  timeMs: number;
  value: number;
  traceId: Buffer | undefined;
  spanId: Buffer | undefined;
}

export interface RwPoint {
  timeMs: number;
  value: number;
  flags: number;
  exemplars: RwExemplar[] | undefined;
}

export interface RwMetric {
  name: string;
  description: string;
  unit: string;
  promType: string;
  /** undefined: a Gauge; otherwise a cumulative Sum, monotonic or not. */
  monotonic: boolean | undefined;
  /** Points, each with its series' attributes. */
  series: { attrs: Attr[]; points: RwPoint[] }[];
}

export interface RwResource {
  attrs: Attr[];
  scope: string;
  metrics: RwMetric[];
}

class Writer {
  buf = Buffer.allocUnsafe(64 * 1024);
  pos = 0;
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
    while (n > 127) {
      this.buf[this.pos++] = (n & 127) | 128;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }
  tag(no: number, wire: number): void {
    this.varint((no << 3) | wire);
  }
  string(no: number, s: string): void {
    this.tag(no, 2);
    const n = Buffer.byteLength(s, 'utf8');
    this.varint(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
  bytes(no: number, b: Buffer): void {
    this.tag(no, 2);
    this.varint(b.length);
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }
  double(no: number, v: number): void {
    this.tag(no, 1);
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }
  /** Milliseconds as fixed64 nanoseconds, exact without BigInt (negative times become 0). */
  timeNs(no: number, ms: number): void {
    this.tag(no, 1);
    this.ensure(8);
    const m = ms > 0 ? Math.trunc(ms) : 0;
    const mhi = Math.floor(m / 4294967296);
    const lo = (m - mhi * 4294967296) * 1_000_000;
    const carry = Math.floor(lo / 4294967296);
    this.buf.writeUInt32LE(lo - carry * 4294967296, this.pos);
    this.buf.writeUInt32LE((mhi * 1_000_000 + carry) >>> 0, this.pos + 4);
    this.pos += 8;
  }
  fork(no: number): number {
    this.tag(no, 2);
    this.ensure(1);
    return this.pos++;
  }
  join(at: number): void {
    const len = this.pos - at - 1;
    if (len < 128) {
      this.buf[at] = len;
      return;
    }
    let size = 1;
    for (let n = len; n > 127; n = Math.floor(n / 128)) size++;
    this.ensure(size - 1);
    this.buf.copyWithin(at + size, at + 1, this.pos);
    this.pos += size - 1;
    let p = at;
    let n = len;
    while (n > 127) {
      this.buf[p++] = (n & 127) | 128;
      n = Math.floor(n / 128);
    }
    this.buf[p] = n;
  }
  finish(): Uint8Array {
    return Uint8Array.prototype.slice.call(this.buf, 0, this.pos);
  }
}

function keyValues(w: Writer, no: number, attrs: Attr[]): void {
  for (const [k, v] of attrs) {
    const kv = w.fork(no);
    w.string(1, k);
    const any = w.fork(2);
    w.string(1, v);
    w.join(any);
    w.join(kv);
  }
}

export function encodeRemoteWriteMetrics(resources: readonly RwResource[]): Uint8Array {
  const w = new Writer();
  for (const r of resources) {
    const rm = w.fork(1);
    const res = w.fork(1);
    keyValues(w, 1, r.attrs);
    w.join(res);
    const sm = w.fork(2);
    const sc = w.fork(1);
    w.string(1, r.scope);
    w.join(sc);
    for (const m of r.metrics) {
      const mm = w.fork(2);
      w.string(1, m.name);
      if (m.description !== '') w.string(2, m.description);
      if (m.unit !== '') w.string(3, m.unit);
      const data = w.fork(m.monotonic === undefined ? 5 : 7);
      for (const s of m.series) {
        for (const p of s.points) {
          const dp = w.fork(1);
          w.timeNs(3, p.timeMs);
          w.double(4, p.value);
          for (const e of p.exemplars ?? []) {
            const ex = w.fork(5);
            w.timeNs(2, e.timeMs);
            w.double(3, e.value);
            if (e.spanId) w.bytes(4, e.spanId);
            if (e.traceId) w.bytes(5, e.traceId);
            keyValues(w, 7, e.attrs);
            w.join(ex);
          }
          keyValues(w, 7, s.attrs);
          if (p.flags !== 0) {
            w.tag(8, 0);
            w.varint(p.flags);
          }
          w.join(dp);
        }
      }
      if (m.monotonic !== undefined) {
        w.tag(2, 0);
        w.varint(2); // cumulative
        if (m.monotonic) {
          w.tag(3, 0);
          w.varint(1);
        }
      }
      w.join(data);
      keyValues(w, 12, [['prometheus.type', m.promType]]);
      w.join(mm);
    }
    w.join(sm);
    w.join(rm);
  }
  return w.finish();
}
