/** The few protobuf writing primitives the platform needs for OTLP responses. */

export function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** Tag and length prefix of a length-delimited field `no` holding `length` bytes. */
export function lenHeader(no: number, length: number): Uint8Array {
  return Uint8Array.from([(no << 3) | 2, ...varint(length)]);
}
