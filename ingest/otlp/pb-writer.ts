/**
 * A protobuf writer for the OTLP messages the platform writes directly (the agent's metrics, the gateway's
 * remote_write conversion): the wire format written once into one growing Buffer. Nested messages reserve one
 * length byte (`fork`) and are shifted in place in the rare case their body passes 127 bytes (`join`).
 * Times are fixed64 nanoseconds computed without BigInt. Callers' unit tests read what they write back with the
 * platform's decoder.
 */
import { GrowableBuffer } from '#core/bytes.ts';

/** Wire types. */
export const I64 = 1;
export const LEN = 2;

export class PbWriter extends GrowableBuffer {
  constructor() {
    super(64 * 1024);
  }
  tag(no: number, wire: number): void {
    this.varint((no << 3) | wire);
  }
  string(no: number, s: string): void {
    this.tag(no, LEN);
    if (s.length < 43) {
      // At most 3 bytes a UTF-16 unit: fits a one-byte length.
      this.ensure(1 + s.length * 3);
      const n = this.buf.write(s, this.pos + 1, 'utf8');
      this.buf[this.pos] = n;
      this.pos += 1 + n;
      return;
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.varint(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
  bytes(no: number, b: Uint8Array): void {
    this.tag(no, LEN);
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  double(no: number, v: number): void {
    this.tag(no, I64);
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }
  /** A fixed64 of a non-negative integer below 2^53 (counts). */
  fixed64(no: number, v: number): void {
    this.tag(no, I64);
    this.rawFixed64(v);
  }
  rawFixed64(v: number): void {
    this.ensure(8);
    const hi = Math.floor(v / 4294967296);
    this.buf.writeUInt32LE(v - hi * 4294967296, this.pos);
    this.buf.writeUInt32LE(hi, this.pos + 4);
    this.pos += 8;
  }
  /** Milliseconds (possibly fractional) as fixed64 nanoseconds, exact to the microsecond without BigInt. */
  timeNs(no: number, ms: number): void {
    this.tag(no, I64);
    this.ensure(8);
    const us = Math.max(0, Math.round(ms * 1000));
    const uhi = Math.floor(us / 4294967296);
    const ulo = us - uhi * 4294967296;
    const loNs = ulo * 1000;
    const carry = Math.floor(loNs / 4294967296);
    this.buf.writeUInt32LE(loNs - carry * 4294967296, this.pos);
    this.buf.writeUInt32LE((uhi * 1000 + carry) >>> 0, this.pos + 4);
    this.pos += 8;
  }
  /** Starts a length-delimited field; `join` with the returned offset when its body is written. */
  fork(no: number): number {
    this.tag(no, LEN);
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
