/**
 * The queue's on-disk record: a 12-byte header (magic, payload length, CRC-32 of length and payload) and the
 * payload (signal, item count, the OTLP body). The magic lets recovery find the next record after a corrupt one
 * (a flipped length would otherwise lose the rest of the segment); the CRC covers the length so a torn or flipped
 * header is caught too.
 */
import { crc32 } from 'node:zlib';
import type { AgentSignal, Batch } from '../core/contracts.ts';

export const MAGIC = 0x43514e31; // "CQN1"
export const HEADER_BYTES = 12;
const PAYLOAD_HEAD = 5;
/** A record larger than this is not a record (the header is corrupt): no batch comes near it. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

const SIGNALS: AgentSignal[] = ['logs', 'metrics', 'traces'];

function checksum(header: Buffer, payload: Uint8Array): number {
  return crc32(payload, crc32(header.subarray(4, 8)));
}

export function encodeRecord(batch: Batch): Buffer {
  const length = PAYLOAD_HEAD + batch.body.byteLength;
  const out = Buffer.allocUnsafe(HEADER_BYTES + length);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(length, 4);
  out.writeUInt8(SIGNALS.indexOf(batch.signal), HEADER_BYTES);
  out.writeUInt32LE(batch.items >>> 0, HEADER_BYTES + 1);
  out.set(batch.body, HEADER_BYTES + PAYLOAD_HEAD);
  out.writeUInt32LE(checksum(out, out.subarray(HEADER_BYTES)), 8);
  return out;
}

/** The payload length a header announces, or undefined when the header cannot start a record. */
export function payloadLength(header: Buffer): number | undefined {
  if (header.length < HEADER_BYTES || header.readUInt32LE(0) !== MAGIC) return undefined;
  const length = header.readUInt32LE(4);
  return length >= PAYLOAD_HEAD && length <= MAX_RECORD_BYTES ? length : undefined;
}

/** The batch in a header + payload, or undefined when the CRC does not match. */
export function decodeRecord(header: Buffer, payload: Buffer): Batch | undefined {
  if (checksum(header, payload) !== header.readUInt32LE(8)) return undefined;
  const signal = SIGNALS[payload.readUInt8(0)];
  if (!signal) return undefined;
  return { signal, items: payload.readUInt32LE(1), body: new Uint8Array(payload.buffer, payload.byteOffset + PAYLOAD_HEAD, payload.length - PAYLOAD_HEAD) };
}

export interface ScannedRecord {
  offset: number;
  size: number;
}

export interface ScanResult {
  records: ScannedRecord[];
  /** Records whose bytes were there but wrong (CRC, header), skipped. */
  corrupt: number;
  /** Where the readable records end; bytes after it are a torn write (or corruption with no record after it). */
  validEnd: number;
  /** Bytes after the last record that start no complete record: a write cut short by a crash. */
  tornBytes: number;
}

/**
 * Scans a whole segment: every valid record, in order, skipping corrupt ones by searching for the next magic whose
 * record checks out.
 */
export function scanSegment(data: Buffer): ScanResult {
  const records: ScannedRecord[] = [];
  let corrupt = 0;
  let pos = 0;
  let validEnd = 0;
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(MAGIC, 0);
  while (pos < data.length) {
    const at = recordAt(data, pos);
    if (at === 'ok') {
      const size = HEADER_BYTES + data.readUInt32LE(pos + 4);
      records.push({ offset: pos, size });
      pos += size;
      validEnd = pos;
      continue;
    }
    // Not a record here. If a valid record follows somewhere, what lies between is corrupt; if none does, the
    // rest is a torn tail (or unrecoverable), reported as torn bytes.
    let next = data.indexOf(magic, pos + 1);
    while (next !== -1 && recordAt(data, next) !== 'ok') next = data.indexOf(magic, next + 1);
    if (next === -1) break;
    corrupt++;
    pos = next;
  }
  return { records, corrupt, validEnd, tornBytes: data.length - validEnd };
}

function recordAt(data: Buffer, pos: number): 'ok' | 'short' | 'bad' {
  if (pos + HEADER_BYTES > data.length) return 'short';
  const header = data.subarray(pos, pos + HEADER_BYTES);
  const length = payloadLength(header);
  if (length === undefined) return 'bad';
  if (pos + HEADER_BYTES + length > data.length) return 'short';
  return decodeRecord(header, data.subarray(pos + HEADER_BYTES, pos + HEADER_BYTES + length)) ? 'ok' : 'bad';
}
