/**
 * One record of the write-ahead log: an accepted OTLP request as protobuf bytes, framed so that a torn or
 * corrupted record is recognized rather than decoded.
 *
 *   0  u32  payload length
 *   4  u32  CRC-32 of bytes 8 … end (offset, appended-at, signal and payload), zlib's, in native code
 *   8  u64  offset: the record's sequence number in the log, one more than the previous record's
 *  16  u64  appended-at, ms since the epoch (for the age of what is pending)
 *  24  u8   signal (0 traces, 1 logs, 2 metrics)
 *  25  …    payload: the `Export*ServiceRequest`, as the Kafka transport would publish it
 *
 * Little-endian. The CRC covers the offset, so a record copied to the wrong place does not pass as valid.
 */
import { crc32 } from 'node:zlib';
import type { Signal } from '#otlp/rows.ts';

export const HEADER_BYTES = 25;
/**
 * Longest payload a header may claim. Requests are at most --max-request-bytes (16 MiB by default, decompressed);
 * anything claiming more than this is a corrupt length field, not a record to allocate for.
 */
export const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

const SIGNALS: readonly Signal[] = ['traces', 'logs', 'metrics'];
const SIGNAL_CODES: Readonly<Record<Signal, number>> = { traces: 0, logs: 1, metrics: 2 };

export interface RecordHeader {
  payloadBytes: number;
  crc: number;
  offset: number;
  appendedAt: number;
  signal: Signal;
}

/** The header of a record carrying `payload`; the payload is written after it as is (no copy). */
export function encodeHeader(offset: number, appendedAt: number, signal: Signal, payload: Uint8Array): Buffer {
  const h = Buffer.allocUnsafe(HEADER_BYTES);
  h.writeUInt32LE(payload.byteLength, 0);
  h.writeBigUInt64LE(BigInt(offset), 8);
  h.writeBigUInt64LE(BigInt(appendedAt), 16);
  h.writeUInt8(SIGNAL_CODES[signal], 24);
  h.writeUInt32LE(crc32(payload, crc32(h.subarray(8, HEADER_BYTES))), 4);
  return h;
}

/** Parses a header; undefined when it cannot be one (unknown signal, absurd length). The CRC is checked with the payload. */
export function decodeHeader(h: Buffer): RecordHeader | undefined {
  if (h.length < HEADER_BYTES) return undefined;
  const payloadBytes = h.readUInt32LE(0);
  const signal = SIGNALS[h.readUInt8(24)];
  const offset = h.readBigUInt64LE(8);
  if (signal === undefined || payloadBytes > MAX_PAYLOAD_BYTES || offset > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return { payloadBytes, crc: h.readUInt32LE(4), offset: Number(offset), appendedAt: Number(h.readBigUInt64LE(16)), signal };
}

/** Whether `payload` is the one `header` (its raw bytes in `raw`) was written with. */
export function crcMatches(raw: Buffer, header: RecordHeader, payload: Uint8Array): boolean {
  return crc32(payload, crc32(raw.subarray(8, HEADER_BYTES))) === header.crc;
}
