/**
 * The queue's on-disk record: a 12-byte header (magic, payload length, CRC-32 of length and payload) and the
 * payload (signal, item count, the OTLP body). A record may also carry a *commit* (a stream name and opaque bytes:
 * the state its producer advances to with this batch, see `QueueCommit`), flagged by the signal byte's high bit
 * and placed before the body, so the batch and its producer's state become durable in the same write; records
 * without one are laid out as before. The magic lets recovery find the next record after a corrupt one
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
const HAS_COMMIT = 0x80;

/**
 * What a producer commits with a batch: `data` is its state after this batch (opaque to the queue), under its
 * `stream` name. The queue keeps the newest commit of each stream durable until a newer one replaces it
 * (`DiskQueue.lastCommit`), also after the record itself was acknowledged and its segment deleted.
 */
export interface QueueCommit {
  stream: string;
  data: Uint8Array;
}

export interface DecodedRecord {
  batch: Batch;
  commit?: QueueCommit;
}

function checksum(header: Buffer, payload: Uint8Array): number {
  return crc32(payload, crc32(header.subarray(4, 8)));
}

export function encodeRecord(batch: Batch, commit?: QueueCommit): Buffer {
  const stream = commit ? Buffer.from(commit.stream, 'utf8') : undefined;
  if (stream && stream.length > 0xffff) throw new RangeError('a commit stream name is at most 65535 bytes');
  const commitBytes = commit && stream ? 2 + stream.length + 4 + commit.data.byteLength : 0;
  const length = PAYLOAD_HEAD + commitBytes + batch.body.byteLength;
  const out = Buffer.allocUnsafe(HEADER_BYTES + length);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(length, 4);
  out.writeUInt8(SIGNALS.indexOf(batch.signal) | (commit ? HAS_COMMIT : 0), HEADER_BYTES);
  out.writeUInt32LE(batch.items >>> 0, HEADER_BYTES + 1);
  let at = HEADER_BYTES + PAYLOAD_HEAD;
  if (commit && stream) {
    out.writeUInt16LE(stream.length, at);
    out.set(stream, at + 2);
    at += 2 + stream.length;
    out.writeUInt32LE(commit.data.byteLength, at);
    out.set(commit.data, at + 4);
    at += 4 + commit.data.byteLength;
  }
  out.set(batch.body, at);
  out.writeUInt32LE(checksum(out, out.subarray(HEADER_BYTES)), 8);
  return out;
}

/** The payload length a header announces, or undefined when the header cannot start a record. */
export function payloadLength(header: Buffer): number | undefined {
  if (header.length < HEADER_BYTES || header.readUInt32LE(0) !== MAGIC) return undefined;
  const length = header.readUInt32LE(4);
  return length >= PAYLOAD_HEAD && length <= MAX_RECORD_BYTES ? length : undefined;
}

/** The batch (and commit) in a header + payload, or undefined when the CRC does not match or the layout is wrong. */
export function decodeRecord(header: Buffer, payload: Buffer): DecodedRecord | undefined {
  if (checksum(header, payload) !== header.readUInt32LE(8)) return undefined;
  const flags = payload.readUInt8(0);
  const signal = SIGNALS[flags & ~HAS_COMMIT];
  if (!signal) return undefined;
  const items = payload.readUInt32LE(1);
  let at = PAYLOAD_HEAD;
  let commit: QueueCommit | undefined;
  if (flags & HAS_COMMIT) {
    if (at + 2 > payload.length) return undefined;
    const streamLength = payload.readUInt16LE(at);
    if (at + 2 + streamLength + 4 > payload.length) return undefined;
    const stream = payload.toString('utf8', at + 2, at + 2 + streamLength);
    at += 2 + streamLength;
    const dataLength = payload.readUInt32LE(at);
    if (at + 4 + dataLength > payload.length) return undefined;
    commit = { stream, data: new Uint8Array(payload.buffer, payload.byteOffset + at + 4, dataLength) };
    at += 4 + dataLength;
  }
  const batch = { signal, items, body: new Uint8Array(payload.buffer, payload.byteOffset + at, payload.length - at) };
  return commit ? { batch, commit } : { batch };
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
