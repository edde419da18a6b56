/**
 * The body of kafkajs's Produce requests (v3 to v7, one wire format: record batch v2), encoded in one pass.
 *
 * kafkajs builds each record in an `Encoder` of its own (a zero-filled 512-byte buffer, grown by reallocating
 * and copying; each varint a `Buffer.from` of a number array, each 64-bit value a `Long`), copies every record
 * into a records encoder that grows by doubling, and then copies the batch, the partition, the topic and the
 * request into one new encoder after another. On the gateway, where a 512-span request becomes ~52 records,
 * that was a quarter of the process's CPU beside the compression itself. Here the records of a partition are
 * sized first and written into one buffer, compressed by the codec kafkajs would use (its `CompressionCodecs`
 * registry, so codecs installed there apply), and the request is assembled in one buffer of its exact size,
 * with a table-driven CRC32C over 8 bytes at a time.
 *
 * The bytes are exactly kafkajs's (produce-encoding.test.ts compares them, uncompressed and gzip), so brokers and
 * every consumer read them as before. Only the plain producer's requests are encoded here: a transactional or
 * idempotent producer's, and messages with their own timestamp or headers, keep kafkajs's encoder.
 *
 * kafkajs has no hook for this; its Produce request definition is replaced at the one place kafkajs looks it up
 * per request (`requests.Produce.protocol`), for the kafkajs version this was written against only.
 */
import { createRequire } from 'node:module';
// kafkajs is CommonJS and Node's ESM loader cannot see this export by name.
import kafkajs from 'kafkajs';

const require = createRequire(import.meta.url);

/** The kafkajs release whose Produce request layout and internals this matches. */
const KAFKAJS_VERSION = '2.2.4';

type Bytes = Buffer | string | null | undefined;

interface ProduceMessage {
  key?: Bytes;
  value: Bytes;
  timestamp?: unknown;
  headers?: unknown;
}

interface ProducePartition {
  partition: number;
  messages: ProduceMessage[];
  firstSequence?: number | undefined;
}

export interface ProduceArgs {
  acks: number;
  timeout: number;
  compression?: number | undefined;
  topicData: { topic: string; partitions: ProducePartition[] }[];
  transactionalId?: string | null | undefined;
  producerId?: unknown;
  producerEpoch?: number | undefined;
}

/** kafkajs's Encoder, as far as its request framing (`writeEncoder`) reads one. */
interface EncoderLike {
  buf: Buffer;
  offset: number;
}
type EncoderClass = new (initialSize?: number) => EncoderLike;

interface ProduceVersion {
  (args: ProduceArgs): { request: { encode: () => Promise<EncoderLike> } & Record<string, unknown>; response: unknown };
}
interface ProduceDefinition {
  versions: string[];
  protocol: (opts: { version: number }) => ProduceVersion;
}

/** What kafkajs's codecs (CompressionCodecs) offer a producer. */
interface Codec {
  compress(encoder: EncoderLike): Promise<Buffer>;
}

const NONE: number = kafkajs.CompressionTypes.None;
const MAGIC = 2;
const BATCH_HEADER = 8 + 4 + 4 + 1 + 4; // baseOffset, batchLength, partitionLeaderEpoch, magic, crc
const BATCH_BODY_HEADER = 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4; // attributes … baseSequence, record count

const zigzag = (n: number) => ((n << 1) ^ (n >> 31)) >>> 0;
const uvarintSize = (n: number) => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);

function writeUvarint(buf: Buffer, at: number, n: number): number {
  while (n > 0x7f) {
    buf[at++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[at++] = n;
  return at;
}

/** The message's key or value as bytes (kafkajs writes strings as UTF-8), null for none. */
function bytesOf(v: Bytes): Buffer | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

/** Whether this encoder writes what kafkajs's would for these arguments (else kafkajs encodes them). */
export function encodable(args: ProduceArgs): boolean {
  if (args.transactionalId !== null && args.transactionalId !== undefined) return false;
  if (args.producerId !== undefined && args.producerId !== -1) return false;
  for (const t of args.topicData) {
    for (const p of t.partitions) {
      for (const m of p.messages) {
        if ((m.timestamp !== undefined && m.timestamp !== null) || (m.headers !== undefined && m.headers !== null)) return false;
        if (m.key !== undefined && m.key !== null && typeof m.key !== 'string' && !Buffer.isBuffer(m.key)) return false;
        if (m.value !== undefined && m.value !== null && typeof m.value !== 'string' && !Buffer.isBuffer(m.value)) return false;
      }
    }
  }
  return true;
}

/** The records of one partition, uncompressed, as record batch v2 lays them out (timestamp delta 0, no headers). */
function encodeRecords(messages: ProduceMessage[]): Buffer {
  const keys = new Array<Buffer | null>(messages.length);
  const values = new Array<Buffer | null>(messages.length);
  const lengths = new Array<number>(messages.length);
  let size = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const key = bytesOf(m.key);
    const value = bytesOf(m.value);
    keys[i] = key;
    values[i] = value;
    // attributes, timestampDelta 0, offsetDelta, key, value, header count 0
    const body =
      1 + 1 + uvarintSize(zigzag(i)) +
      (key === null ? 1 : uvarintSize(zigzag(key.length)) + key.length) +
      (value === null ? 1 : uvarintSize(zigzag(value.length)) + value.length) +
      1;
    lengths[i] = body;
    size += uvarintSize(zigzag(body)) + body;
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < messages.length; i++) {
    at = writeUvarint(out, at, zigzag(lengths[i]!));
    out[at++] = 0; // attributes
    out[at++] = 0; // timestampDelta (zigzag 0)
    at = writeUvarint(out, at, zigzag(i));
    const key = keys[i]!;
    if (key === null) out[at++] = 1; // zigzag(-1)
    else {
      at = writeUvarint(out, at, zigzag(key.length));
      at += key.copy(out, at);
    }
    const value = values[i]!;
    if (value === null) out[at++] = 1;
    else {
      at = writeUvarint(out, at, zigzag(value.length));
      at += value.copy(out, at);
    }
    out[at++] = 0; // no headers
  }
  return out;
}

/**
 * The Produce request body (what follows the request header) for `args`, which `encodable` accepted;
 * `now` is the batches' timestamp (kafkajs's Date.now() when messages carry none).
 */
export async function encodeProduce(args: ProduceArgs, now = Date.now(), encoderClass?: EncoderClass): Promise<Buffer> {
  const compression: number = args.compression ?? NONE;
  const codecs = kafkajs.CompressionCodecs as unknown as Record<number, (() => Codec) | undefined>;
  const codec = compression === NONE ? undefined : codecs[compression]?.();
  if (compression !== NONE && codec === undefined) throw new Error(`no codec for compression type ${compression}`);
  const Encoder = encoderClass ?? kafkaEncoder();
  const topics: { name: Buffer; parts: { partition: number; firstSequence: number; count: number; payload: Buffer }[] }[] = [];
  let size = 2 + 2 + 4 + 4; // null transactional id, acks, timeout, topic count
  for (const t of args.topicData) {
    const name = Buffer.from(t.topic, 'utf8');
    size += 2 + name.length + 4;
    const parts = [];
    for (const p of t.partitions) {
      const records = encodeRecords(p.messages);
      let payload = records;
      if (codec !== undefined) {
        // Codecs take a kafkajs Encoder and read its `buffer`.
        const encoder = new Encoder(0);
        encoder.buf = records;
        encoder.offset = records.length;
        payload = await codec.compress(encoder);
      }
      parts.push({ partition: p.partition, firstSequence: p.firstSequence ?? 0, count: p.messages.length, payload });
      size += 4 + 4 + BATCH_HEADER + BATCH_BODY_HEADER + payload.length;
    }
    topics.push({ name, parts });
  }
  const out = Buffer.allocUnsafe(size);
  let at = out.writeInt16BE(-1, 0); // transactional id: null
  at = out.writeInt16BE(args.acks, at);
  at = out.writeInt32BE(args.timeout, at);
  at = out.writeInt32BE(topics.length, at);
  const timestamp = BigInt(now);
  for (const t of topics) {
    at = out.writeInt16BE(t.name.length, at);
    at += t.name.copy(out, at);
    at = out.writeInt32BE(t.parts.length, at);
    for (const p of t.parts) {
      const batchLength = 4 + 1 + 4 + BATCH_BODY_HEADER + p.payload.length; // from partitionLeaderEpoch to the end
      at = out.writeInt32BE(p.partition, at);
      at = out.writeInt32BE(8 + 4 + batchLength, at); // the record set's size
      at = out.writeBigInt64BE(0n, at); // baseOffset
      at = out.writeInt32BE(batchLength, at);
      at = out.writeInt32BE(0, at); // partitionLeaderEpoch
      out[at++] = MAGIC;
      const crcAt = at;
      at += 4;
      const bodyStart = at;
      at = out.writeInt16BE(compression & 0x07, at); // attributes: codec; create time; not transactional
      at = out.writeInt32BE(p.count - 1, at); // lastOffsetDelta
      at = out.writeBigInt64BE(timestamp, at); // firstTimestamp
      at = out.writeBigInt64BE(timestamp, at); // maxTimestamp
      at = out.writeBigInt64BE(-1n, at); // producerId
      at = out.writeInt16BE(args.producerEpoch ?? 0, at);
      at = out.writeInt32BE(p.firstSequence, at);
      at = out.writeInt32BE(p.count, at);
      at += p.payload.copy(out, at);
      out.writeUInt32BE(crc32c(out, bodyStart, at), crcAt);
    }
  }
  return out;
}

// CRC32C (Castagnoli, reflected 0x82F63B78), slicing by 8: eight tables, eight bytes per step.
const CRC_TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n]! >>> 8) ^ t[t[(k - 1) * 256 + n]! & 0xff]!;
  }
  return t;
})();

/** CRC32C of buf[start, end). */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  const T = CRC_TABLES;
  let crc = ~0;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = crc ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    crc =
      T[7 * 256 + (a & 0xff)]! ^
      T[6 * 256 + ((a >>> 8) & 0xff)]! ^
      T[5 * 256 + ((a >>> 16) & 0xff)]! ^
      T[4 * 256 + (a >>> 24)]! ^
      T[3 * 256 + buf[i + 4]!]! ^
      T[2 * 256 + buf[i + 5]!]! ^
      T[256 + buf[i + 6]!]! ^
      T[buf[i + 7]!]!;
  }
  for (; i < end; i++) crc = T[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

let encoderClass: EncoderClass | undefined;
function kafkaEncoder(): EncoderClass {
  encoderClass ??= require('kafkajs/src/protocol/encoder') as EncoderClass;
  return encoderClass;
}

let installed: boolean | undefined;

/**
 * Makes every kafkajs producer of this process encode its plain Produce requests here (idempotent). Returns false,
 * leaving kafkajs as it is, when the installed kafkajs is not the release this matches.
 */
export function installProduceEncoding(): boolean {
  if (installed !== undefined) return installed;
  const { version } = require('kafkajs/package.json') as { version: string };
  if (version !== KAFKAJS_VERSION) return (installed = false);
  const Encoder = kafkaEncoder();
  const definition = require('kafkajs/src/protocol/requests/produce/index.js') as ProduceDefinition;
  const original = definition.protocol;
  definition.protocol = ({ version: v }) => {
    const make = original({ version: v });
    // v3 introduced record batch v2; v4-v7 only announce broker capabilities, with the same body.
    if (v < 3 || v > 7) return make;
    return (args) => {
      const made = make(args);
      if (!encodable(args)) return made;
      const encode = async (): Promise<EncoderLike> => {
        const body = await encodeProduce(args, Date.now(), Encoder);
        const encoder = new Encoder(0);
        encoder.buf = body;
        encoder.offset = body.length;
        return encoder;
      };
      return { ...made, request: { ...made.request, encode } };
    };
  };
  return (installed = true);
}
