/**
 * A growable byte buffer: what the platform's two binary writers share, the OTLP protobuf writer
 * (#otlp/pb-writer.ts) and the ClickHouse Native format encoder (#storage/native.ts). Each adds its own writes.
 */
export class GrowableBuffer {
  buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Room for `n` more bytes at `pos`: the buffer doubles (at least) and keeps what was written. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** An unsigned LEB128 varint (protobuf's and ClickHouse's alike), for a non-negative safe integer. */
  varint(n: number): void {
    this.ensure(10);
    const buf = this.buf;
    while (n > 127) {
      buf[this.pos++] = (n & 127) | 128;
      n = Math.floor(n / 128);
    }
    buf[this.pos++] = n;
  }
}
