/**
 * The record-batch codecs kafkajs uses, installed through its documented hook (`CompressionCodecs`): kafkajs
 * itself ships gzip only and throws "… compression not implemented" at the first snappy, lz4 or zstd batch, which
 * stopped every partition of the fetch. Writers read all four; the gateway produces what `--kafka-compression`
 * says.
 *
 * - gzip: replaced for speed. kafkajs's own codec calls async `zlib.gzip`/`zlib.unzip` at level 6. Under load
 *   that starved the writer: every produced batch queued a compression job on libuv's thread pool, and a fetch
 *   response's record batches are inflated one after another, each waiting behind that queue. Measured with
 *   gateway and writer in one process, the writer consumed nothing for 8–12 s while clients were sending.
 *   Synchronous calls have no queue, and cost less CPU than the async round trips for batches this size (500 ×
 *   80 KB: 108 ms sync against 388 ms async at level 1). Level 1 compresses the bench's spans to 7 % of their size
 *   in 0.9 µs per span, against 6 % in 2.5 µs at level 6. The bytes are ordinary gzip either way: any Kafka client
 *   reads them. The other codecs are synchronous for the same reason.
 * - snappy (`snappy`, napi-rs bindings of the reference codec): Java clients and the broker write snappy-java's
 *   framing (`\x82SNAPPY\x00`, two big-endian int32 versions, then chunks each prefixed with its big-endian int32
 *   length), librdkafka and kafkajs plugins may write one raw snappy block: both are read. We write the framing,
 *   as Java does, since every client reads that.
 * - lz4 (`lz4-napi`): v2 record batches carry a standard LZ4 frame (Kafka's KafkaLZ4BlockOutputStream wrote a
 *   broken header checksum only for the old v0 message format).
 * - zstd (`@hpcc-js/wasm-zstd`, the reference library compiled to WebAssembly, loaded once per process): Java's
 *   zstd-jni streams write frames without a content size, so the output size is bounded from the frame's own
 *   block headers rather than guessed. The package's public calls copy every output byte through a JS array
 *   (88 ms against 1.3 ms for a 776 KB batch, measured), so the codec calls the same two exported C functions
 *   (`ZSTD_compress`, `ZSTD_decompress`) on the module's heap directly; codecs.test.ts fails if that surface
 *   changes.
 *
 * A batch that can never be decoded must not stop its partition. kafkajs decodes a v2 batch in
 * `protocol/recordBatch/v0/decoder.js`: it reads the record count right before the compressed bytes and calls
 * `decompress` with a slice that shares memory with the batch, then decodes `count` records from what it gets.
 * When decompression fails (or its output is not exactly `count` records, as Java's consumer also insists), the
 * codec reads the batch header that precedes the slice, checks it is one (magic 2, the length field, the codec
 * bits, count = lastOffsetDelta + 1, and the CRC-32C Kafka keeps over it, so the bytes are what the producer
 * wrote), and answers `count` synthetic records at the batch's own offsets, each marked as undecodable (with a
 * token of this process, so no producer can forge the mark) and the first carrying the compressed bytes. The
 * writer dead-letters them and the partition moves on. When the check fails the error is thrown: the consumer
 * crashes and its supervisor (writer.ts) restarts it. This relies on kafkajs 2.2.4's decoder, pinned by
 * codecs.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync, unzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import type { Zstd } from '@hpcc-js/wasm-zstd';
// kafkajs is CommonJS and Node's ESM loader cannot see these exports by name.
import kafkajs, { type KafkaMessage } from 'kafkajs';
import type * as Lz4 from 'lz4-napi';
import type * as Snappy from 'snappy';

// snappy, lz4 and zstd load on first use: a gateway producing gzip (the default) never maps them, which kept
// ~17 MiB off its idle RSS. Native modules load synchronously (CommonJS); zstd's WebAssembly compiles
// asynchronously, which its codec calls can wait for, since kafkajs awaits them.
const require = createRequire(import.meta.url);
let snappyLib: typeof Snappy | undefined;
let lz4Lib: typeof Lz4 | undefined;
const snappy = () => (snappyLib ??= require('snappy') as typeof Snappy);
const lz4 = () => (lz4Lib ??= require('lz4-napi') as typeof Lz4);
const snappyCompress = (b: Buffer) => snappy().compressSync(b);
const snappyUncompress = (b: Buffer) => snappy().uncompressSync(b, { asBuffer: true }) as Buffer;

/** What the gateway may produce with (`--kafka-compression`). */
export const KAFKA_COMPRESSIONS = ['gzip', 'snappy', 'lz4', 'zstd', 'none'] as const;
export type KafkaCompression = (typeof KAFKA_COMPRESSIONS)[number];

/** The kafkajs compression type for a `--kafka-compression` value. */
export function compressionTypeOf(compression: KafkaCompression): kafkajs.CompressionTypes {
  const { CompressionTypes } = kafkajs;
  switch (compression) {
    case 'gzip':
      return CompressionTypes.GZIP;
    case 'snappy':
      return CompressionTypes.Snappy;
    case 'lz4':
      return CompressionTypes.LZ4;
    case 'zstd':
      return CompressionTypes.ZSTD;
    case 'none':
      return CompressionTypes.None;
  }
}

/** The codec bits of a batch's attributes (Kafka's compression type ids). */
const CODEC_IDS = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
type CodecName = keyof typeof CODEC_IDS;

/** A codec as kafkajs calls it. */
export interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

// ---- snappy ----------------------------------------------------------------------------------------------

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
/** Magic, then version 1 and minimum compatible version 1 (big-endian int32s), as snappy-java writes them. */
const XERIAL_HEADER = Buffer.concat([XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])]);
/** snappy-java's SnappyOutputStream default block size, which the broker and Java producers use. */
const XERIAL_BLOCK = 32 * 1024;

const isXerial = (b: Buffer, at = 0) => b.length - at >= XERIAL_HEADER.length && b.compare(XERIAL_MAGIC, 0, XERIAL_MAGIC.length, at, at + XERIAL_MAGIC.length) === 0;

/** snappy-java's framing of `data`: the header, then each 32 KiB block as a length-prefixed raw snappy block. */
export function snappyFramed(data: Buffer): Buffer {
  const parts: Buffer[] = [XERIAL_HEADER];
  for (let at = 0; at < data.length; at += XERIAL_BLOCK) {
    const block = snappyCompress(data.subarray(at, at + XERIAL_BLOCK));
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(block.length);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}

/** Kafka snappy in either form: snappy-java's framing (streams may be concatenated) or one raw block. */
export function snappyDecode(data: Buffer): Buffer {
  if (!isXerial(data)) return snappyUncompress(data);
  const parts: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    if (isXerial(data, at)) {
      at += XERIAL_HEADER.length;
      continue;
    }
    if (at + 4 > data.length) throw new Error('snappy-java framing: truncated block length');
    const length = data.readUInt32BE(at);
    at += 4;
    if (at + length > data.length) throw new Error(`snappy-java framing: block of ${length} bytes runs past the end`);
    parts.push(snappyUncompress(data.subarray(at, at + length)));
    at += length;
  }
  return Buffer.concat(parts);
}

// ---- zstd ------------------------------------------------------------------------------------------------

/** The parts of the wasm module the codec calls (see the module doc for why not the package's public calls). */
interface ZstdHeap {
  _mainModule: {
    _module: { HEAPU8: Uint8Array };
    malloc(size: number): { ptr: number; size: number };
    free(block: { ptr: number }): void;
  };
  _zstdClass: {
    compress(dst: number, dstCapacity: number, src: number, srcSize: number, level: number): number;
    decompress(dst: number, dstCapacity: number, src: number, srcSize: number): number;
    compressBound(srcSize: number): number;
    isError(code: number): number;
    getErrorName(code: number): string;
  };
}

/** The module surface the zstd codec relies on, or why it is missing (checked by codecs.test.ts and at load). */
export function zstdHeapProblem(zstd: Zstd): string | undefined {
  const z = zstd as unknown as Partial<ZstdHeap>;
  const m = z._mainModule;
  const c = z._zstdClass;
  if (!m || !(m._module?.HEAPU8 instanceof Uint8Array) || typeof m.malloc !== 'function' || typeof m.free !== 'function') return 'no wasm heap';
  if (!c || !['compress', 'decompress', 'compressBound', 'isError', 'getErrorName'].every((f) => typeof (c as Record<string, unknown>)[f] === 'function')) return 'no zstd functions';
  return undefined;
}

const ZSTD_MAGIC = 0xfd2fb528;
/** A zstd block never decompresses to more than this (the format's Block_Maximum_Size). */
const ZSTD_BLOCK_MAX = 128 * 1024;

/**
 * An upper bound of the decompressed size of `data` (one or more zstd frames), from the frame headers' content
 * size when they carry it, else from their block headers: raw and RLE blocks state their size, a compressed
 * block holds at most 128 KiB. Throws when the frames are malformed.
 */
export function zstdBound(data: Buffer): number {
  let at = 0;
  let bound = 0;
  const need = (n: number) => {
    if (at + n > data.length) throw new Error('zstd: truncated frame');
  };
  while (at < data.length) {
    need(4);
    const magic = data.readUInt32LE(at);
    at += 4;
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      need(4); // a skippable frame
      at += 4 + data.readUInt32LE(at);
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw new Error('zstd: unknown frame magic');
    need(1);
    const descriptor = data[at++]!;
    const fcsFlag = descriptor >> 6;
    const singleSegment = (descriptor >> 5) & 1;
    const checksum = (descriptor >> 2) & 1;
    const dictIdBytes = [0, 1, 2, 4][descriptor & 3]!;
    const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
    at += (singleSegment ? 0 : 1) + dictIdBytes;
    need(fcsBytes);
    let contentSize: number | undefined;
    if (fcsBytes === 1) contentSize = data[at]!;
    else if (fcsBytes === 2) contentSize = data.readUInt16LE(at) + 256;
    else if (fcsBytes === 4) contentSize = data.readUInt32LE(at);
    else if (fcsBytes === 8) contentSize = Number(data.readBigUInt64LE(at));
    at += fcsBytes;
    let blocks = 0;
    for (let last = 0; !last; ) {
      need(3);
      const header = data.readUIntLE(at, 3);
      at += 3;
      last = header & 1;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (type === 3) throw new Error('zstd: reserved block type');
      if (type === 1) {
        need(1); // RLE: one byte repeated `size` times
        at += 1;
        blocks += size;
      } else {
        need(size);
        at += size;
        blocks += type === 0 ? size : ZSTD_BLOCK_MAX;
      }
    }
    at += checksum * 4;
    bound += contentSize ?? blocks;
  }
  if (at > data.length) throw new Error('zstd: truncated frame');
  return bound;
}

function zstdCodec(zstd: Zstd): { compress: (data: Buffer) => Buffer; decompress: (data: Buffer) => Buffer } {
  const { _mainModule: m, _zstdClass: z } = zstd as unknown as ZstdHeap;
  // Kafka's own default level is 3; level 1 spends about half the CPU for a few percent more bytes.
  const LEVEL = 1;
  const call = (input: Buffer, capacity: number, run: (dst: number, src: number) => number, what: string): Buffer => {
    const src = m.malloc(Math.max(1, input.length));
    const dst = m.malloc(Math.max(1, capacity));
    try {
      m._module.HEAPU8.set(input, src.ptr);
      const n = run(dst.ptr, src.ptr);
      if (z.isError(n)) throw new Error(`zstd ${what} failed: ${z.getErrorName(n)}`);
      // HEAPU8 is read after the call: memory may have grown (a new view) meanwhile.
      return Buffer.from(m._module.HEAPU8.subarray(dst.ptr, dst.ptr + n));
    } finally {
      m.free(dst);
      m.free(src);
    }
  };
  return {
    compress: (data) => {
      const capacity = z.compressBound(data.length);
      return call(data, capacity, (dst, src) => z.compress(dst, capacity, src, data.length, LEVEL), 'compression');
    },
    decompress: (data) => {
      const capacity = zstdBound(data);
      return call(data, capacity, (dst, src) => z.decompress(dst, capacity, src, data.length), 'decompression');
    },
  };
}

// ---- undecodable batches -----------------------------------------------------------------------------------

/** Bytes of a v2 record batch before its records: baseOffset … recordCount. */
const BATCH_HEADER = 61;
/** The batch's length field counts from partitionLeaderEpoch (offset 12) to the end. */
const LENGTH_FROM = 12;

export const UNDECODABLE_HEADER = 'crowsnest.undecodable';
const TOKEN_HEADER = 'crowsnest.undecodable.token';
/** Marks synthetic records as made by this process: a producer cannot forge what it cannot know. */
const TOKEN = randomBytes(16).toString('hex');

const CRC32C = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC32C[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

interface BatchHeader {
  count: number;
}

/**
 * The header of the record batch whose compressed records `compressed` is (a slice of the fetched bytes), or why
 * it is not one. Every check must pass: a slice that merely happens to follow 61 bytes of something else fails the
 * CRC, and a batch corrupted on the way fails it too (a fetch again may then succeed: not a dead letter). The
 * CRC is left out (`checkCrc` false) where a wrong answer costs nothing: reading the count to check a successful
 * decompression's output, which is every batch (the CRC over a 1 MB batch costs milliseconds in JS).
 */
export function batchHeaderOf(compressed: Buffer, codec: CodecName, checkCrc = true): BatchHeader | string {
  if (compressed.byteOffset < BATCH_HEADER) return 'no record batch header before the compressed records';
  const batch = Buffer.from(compressed.buffer, compressed.byteOffset - BATCH_HEADER, BATCH_HEADER + compressed.length);
  const length = batch.readInt32BE(8);
  const magic = batch.readInt8(16);
  const crc = batch.readUInt32BE(17);
  const attributes = batch.readInt16BE(21);
  const lastOffsetDelta = batch.readInt32BE(23);
  const count = batch.readInt32BE(57);
  if (magic !== 2) return `magic ${magic}, not 2`;
  if (length !== batch.length - LENGTH_FROM) return `length field ${length}, batch has ${batch.length - LENGTH_FROM}`;
  if ((attributes & 7) !== CODEC_IDS[codec]) return `codec bits ${attributes & 7}, not ${codec}`;
  if (count <= 0 || count !== lastOffsetDelta + 1) return `record count ${count} does not match lastOffsetDelta ${lastOffsetDelta}`;
  if (checkCrc && crc32c(batch.subarray(21)) !== crc) return 'CRC-32C mismatch: the bytes were corrupted in transit';
  return { count };
}

/** Why `records` is not exactly `count` length-prefixed records, as kafkajs and Java's consumer read them. */
export function recordsProblem(records: Buffer, count: number): string | undefined {
  let at = 0;
  for (let i = 0; i < count; i++) {
    const [length, next] = readVarInt(records, at);
    if (next < 0 || length < 0 || next + length > records.length) return `record ${i} of ${count} runs past the decompressed bytes`;
    at = next + length;
  }
  return at === records.length ? undefined : `${records.length - at} bytes left after ${count} records`;
}

/** A zigzag varint at `at`: [value, next position], next -1 when truncated. */
function readVarInt(b: Buffer, at: number): [number, number] {
  let raw = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (at >= b.length) return [0, -1];
    const byte = b[at++]!;
    raw += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2, at];
  }
  return [0, -1];
}

function varInt(value: number): Buffer {
  let raw = value >= 0 ? value * 2 : -value * 2 - 1;
  const bytes: number[] = [];
  while (raw >= 0x80) {
    bytes.push((raw % 0x80) | 0x80);
    raw = Math.floor(raw / 0x80);
  }
  bytes.push(raw);
  return Buffer.from(bytes);
}

const varBytes = (b: Buffer | null) => (b === null ? varInt(-1) : Buffer.concat([varInt(b.length), b]));

/**
 * `count` records as a decompressed batch holds them, at offset deltas 0 … count-1, each with the undecodable
 * mark and `error`; the first carries `original` (the compressed records) as its value, so nothing is lost.
 */
export function undecodableRecords(count: number, error: string, original: Buffer): Buffer {
  const headers = [
    [UNDECODABLE_HEADER, Buffer.from(error)],
    [TOKEN_HEADER, Buffer.from(TOKEN)],
  ] as const;
  const encodedHeaders = Buffer.concat([varInt(headers.length), ...headers.flatMap(([k, v]) => [varBytes(Buffer.from(k)), varBytes(v)])]);
  const records: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    // attributes, timestampDelta 0, offsetDelta, key null, value, headers
    const body = Buffer.concat([Buffer.from([0]), varInt(0), varInt(i), varInt(-1), varBytes(i === 0 ? original : null), encodedHeaders]);
    records.push(varInt(body.length), body);
  }
  return Buffer.concat(records);
}

/** The decode error when `message` stands for a record of a batch that could not be decoded (see the module doc). */
export function undecodableError(message: Pick<KafkaMessage, 'headers'>): string | undefined {
  const h = message.headers;
  const error = h?.[UNDECODABLE_HEADER];
  if (error === undefined || String(h?.[TOKEN_HEADER]) !== TOKEN) return undefined;
  return String(error);
}

/** `decode`, with a batch that cannot be decoded answered as undecodable records instead of a thrown error. */
export function guarded(codec: CodecName, decode: (compressed: Buffer) => Buffer): (compressed: Buffer) => Promise<Buffer> {
  return (compressed) => {
    let problem: string;
    try {
      const records = decode(compressed);
      const seen = batchHeaderOf(compressed, codec, false);
      if (typeof seen === 'string') return Promise.resolve(records); // not in a batch: nothing to check against
      const wrong = recordsProblem(records, seen.count);
      if (wrong === undefined) return Promise.resolve(records);
      problem = `decompressed bytes are not ${seen.count} records: ${wrong}`;
    } catch (e) {
      problem = (e as Error).message;
    }
    const header = batchHeaderOf(compressed, codec);
    if (typeof header === 'string') return Promise.reject(new Error(`${codec} batch could not be decompressed (${problem}) and is no checked record batch: ${header}`));
    const error = `${codec} record batch of ${header.count} records could not be decompressed: ${problem}`;
    return Promise.resolve(undecodableRecords(header.count, error, Buffer.from(compressed)));
  };
}

// ---- installation -----------------------------------------------------------------------------------------

let zstdLoaded: Promise<ReturnType<typeof zstdCodec>> | undefined;

/**
 * zstd's module, compiled once per process on first use. A module whose layout the codec does not know is an
 * error of this process, not of the batch: it rejects (the consumer crashes, visibly) rather than dead-lettering.
 */
function loadZstd(): Promise<ReturnType<typeof zstdCodec>> {
  zstdLoaded ??= import('@hpcc-js/wasm-zstd').then(async ({ Zstd: module }) => {
    const wasm = await module.load();
    const problem = zstdHeapProblem(wasm);
    if (problem !== undefined) throw new Error(`@hpcc-js/wasm-zstd changed its module layout (${problem}); the zstd codec needs updating`);
    return zstdCodec(wasm);
  });
  return zstdLoaded;
}

/** The four codecs; snappy, lz4 and zstd load their libraries on first use. */
export function createCodecs(): Record<CodecName, Codec> {
  const make = (name: CodecName, compress: (b: Buffer) => Buffer, decompress: (b: Buffer) => Buffer): Codec => ({
    compress: (encoder) => Promise.resolve(compress(encoder.buffer)),
    decompress: guarded(name, decompress),
  });
  return {
    gzip: make('gzip', (b) => gzipSync(b, { level: 1 }), (b) => unzipSync(b)),
    snappy: make('snappy', snappyFramed, snappyDecode),
    lz4: make('lz4', (b) => lz4().compressFrameSync(b), (b) => lz4().decompressFrameSync(b)),
    zstd: {
      compress: async (encoder) => (await loadZstd()).compress(encoder.buffer),
      decompress: async (compressed) => guarded('zstd', (await loadZstd()).decompress)(compressed),
    },
  };
}

let installed: Promise<void> | undefined;

/** Installs the four codecs for every kafkajs client in this process (once; later calls share the first). */
export function installCodecs(): Promise<void> {
  installed ??= Promise.resolve(createCodecs()).then((codecs) => {
    const { CompressionCodecs, CompressionTypes } = kafkajs;
    CompressionCodecs[CompressionTypes.GZIP] = () => codecs.gzip;
    CompressionCodecs[CompressionTypes.Snappy] = () => codecs.snappy;
    CompressionCodecs[CompressionTypes.LZ4] = () => codecs.lz4;
    CompressionCodecs[CompressionTypes.ZSTD] = () => codecs.zstd;
  });
  return installed;
}
