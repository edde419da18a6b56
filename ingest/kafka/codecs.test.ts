import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { Zstd } from '@hpcc-js/wasm-zstd';
import kafkajs from 'kafkajs';
import { compressSync } from 'snappy';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  UNDECODABLE_HEADER,
  crc32c,
  installCodecs,
  snappyDecode,
  snappyFramed,
  undecodableError,
  undecodableRecords,
  zstdBound,
  zstdHeapProblem,
} from './codecs.ts';

// kafkajs's own record-batch encoder and decoder: the codecs rely on how its decoder calls them.
const require = createRequire(import.meta.url);
const KAFKAJS = require.resolve('kafkajs');
const internal = (path: string) => require(new URL(`./src/protocol/${path}`, `file://${KAFKAJS}`).pathname) as unknown;
type Encoded = { buffer: Buffer };
const { RecordBatch } = internal('recordBatch/v0/index.js') as { RecordBatch: (batch: object) => Promise<Encoded> };
const Record = internal('recordBatch/record/v0/index.js') as (record: object) => Encoded;
const decodeBatch = internal('recordBatch/v0/decoder.js') as (decoder: object) => Promise<{ records: { offset: string; key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer> }[] }>;
const Decoder = internal('decoder.js') as new (buffer: Buffer) => { offset: number };
const Long = internal('../utils/long.js') as { fromValue(v: number): unknown };
const { CompressionTypes } = kafkajs;

/** A v2 record batch as kafkajs's producer encodes it (offset 100), inside a larger buffer as a fetch response holds it. */
async function encodedBatch(compression: kafkajs.CompressionTypes, values: Buffer[]): Promise<Buffer> {
  const records = values.map((value, i) => Record({ offsetDelta: i, key: Buffer.from(`k${i}`), value, headers: { h: Buffer.from(`v${i}`) } }));
  const batch = await RecordBatch({ compression, firstOffset: Long.fromValue(100), lastOffsetDelta: values.length - 1, records });
  // kafkajs writes the batch as int32 length + bytes after the first offset; the fetch decoder reads them back.
  return Buffer.concat([Buffer.alloc(37, 0xee), batch.buffer]);
}

async function decoded(fetched: Buffer) {
  const decoder = new Decoder(fetched);
  decoder.offset = 37;
  return (await decodeBatch(decoder)).records;
}

/** Replaces the compressed records of an encoded batch with `garbage`, keeping a valid CRC (a batch stored as is). */
function withRecords(fetched: Buffer, garbage: Buffer): Buffer {
  const start = 37;
  const header = Buffer.from(fetched.subarray(start, start + 61));
  header.writeInt32BE(49 + garbage.length, 8);
  const batch = Buffer.concat([header, garbage]);
  batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
  return Buffer.concat([fetched.subarray(0, start), batch]);
}

/** Buffers compared by bytes (vitest's deep equality walks a Buffer byte by byte: seconds for a megabyte). */
const same = (a: (Buffer | null)[], b: Buffer[]) => a.length === b.length && a.every((x, i) => x !== null && x.equals(b[i]!));

const values = Array.from({ length: 300 }, (_, i) => Buffer.from(`value ${i} `.repeat(40 + (i % 13))));

beforeAll(async () => {
  await installCodecs();
});

describe('Kafka record-batch codecs', () => {
  it('relies on kafkajs 2.2.4 exactly: its decoder hands decompress a slice that shares memory with the batch', () => {
    const pkg = JSON.parse(readFileSync(new URL('./package.json', `file://${KAFKAJS}`), 'utf8')) as { version: string };
    expect(pkg.version).toBe('2.2.4');
  });

  it.each([
    ['gzip', CompressionTypes.GZIP],
    ['snappy', CompressionTypes.Snappy],
    ['lz4', CompressionTypes.LZ4],
    ['zstd', CompressionTypes.ZSTD],
  ] as const)('round-trips a %s batch through kafkajs encoder and decoder', async (_name, type) => {
    const records = await decoded(await encodedBatch(type, values));
    expect(same(records.map((r) => r.value), values)).toBe(true);
    expect(records.map((r) => r.offset)).toEqual(values.map((_, i) => String(100 + i)));
    expect(records[299]!.headers.h).toEqual(Buffer.from('v299'));
  });

  it.each([
    ['snappy', CompressionTypes.Snappy],
    ['lz4', CompressionTypes.LZ4],
    ['zstd', CompressionTypes.ZSTD],
    ['gzip', CompressionTypes.GZIP],
  ] as const)('answers an undecodable %s batch with marked records at its offsets, the first carrying the compressed bytes', async (name, type) => {
    const garbage = Buffer.from('this is not compressed at all, whatever the attributes say');
    const records = await decoded(withRecords(await encodedBatch(type, values.slice(0, 5)), garbage));
    expect(records.map((r) => r.offset)).toEqual(['100', '101', '102', '103', '104']);
    expect(records[0]!.value).toEqual(garbage);
    expect(records.slice(1).map((r) => r.value)).toEqual([null, null, null, null]);
    for (const r of records) expect(undecodableError(r)).toMatch(new RegExp(`^${name} record batch of 5 records could not be decompressed: `));
  });

  it('throws when the bytes before the slice fail the check (a CRC mismatch: corrupted in transit, worth a fetch again)', async () => {
    const fetched = withRecords(await encodedBatch(CompressionTypes.ZSTD, values.slice(0, 5)), Buffer.from('garbage garbage'));
    fetched.writeUInt8(fetched.readUInt8(37 + 17) ^ 0xff, 37 + 17);
    await expect(decoded(fetched)).rejects.toThrow(/CRC-32C mismatch/);
  });

  it('dead-letters a batch whose output is not exactly its record count (as Java insists)', async () => {
    const fetched = await encodedBatch(CompressionTypes.Snappy, values.slice(0, 3));
    const lying = withRecords(fetched, snappyFramed(Buffer.concat([undecodableRecords(3, 'x', Buffer.alloc(1)), Buffer.from([1, 2])])));
    const records = await decoded(lying);
    expect(undecodableError(records[0]!)).toMatch(/2 bytes left after 3 records/);
  });

  it('does not take a producer-set undecodable header for the mark', () => {
    expect(undecodableError({ headers: { [UNDECODABLE_HEADER]: Buffer.from('forged') } })).toBeUndefined();
  });
});

describe('snappy framing', () => {
  it("reads snappy-java's framing of a known vector, as Java producers and the broker write it", () => {
    const framed = Buffer.from('82534e41505059000000000100000001000000090718666f6f6261720a', 'hex');
    expect(snappyDecode(framed).toString()).toBe('foobar\n');
  });

  it('writes the framing in 32 KiB blocks, reads it back, and reads raw snappy and concatenated streams', () => {
    const data = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) % 251));
    const framed = snappyFramed(data);
    expect(framed.subarray(0, 16)).toEqual(Buffer.from('82534e4150505900' + '00000001' + '00000001', 'hex'));
    let blocks = 0;
    for (let at = 16; at < framed.length; at += 4 + framed.readUInt32BE(at)) blocks++;
    expect(blocks).toBe(4);
    expect(snappyDecode(framed).equals(data)).toBe(true);
    expect(snappyDecode(compressSync(data)).equals(data)).toBe(true);
    expect(snappyDecode(Buffer.concat([framed, snappyFramed(Buffer.from('tail'))])).equals(Buffer.concat([data, Buffer.from('tail')]))).toBe(true);
  });

  it('refuses a truncated block instead of returning part of the data', () => {
    const framed = snappyFramed(Buffer.alloc(70_000, 1));
    expect(() => snappyDecode(framed.subarray(0, framed.length - 3))).toThrow(/runs past the end/);
  });
});

describe('zstd', () => {
  it('finds the module surface the codec calls (fails if @hpcc-js/wasm-zstd changes it)', async () => {
    expect(zstdHeapProblem(await Zstd.load())).toBeUndefined();
  });

  it('decodes a frame without a content size, as zstd-jni streams write, far beyond 20x its size', async () => {
    const zstd = await Zstd.load();
    const big = Array.from({ length: 4 }, (_, i) => Buffer.alloc(1024 * 1024, i));
    const raw = Buffer.concat(big.map((value, i) => Record({ offsetDelta: i, key: null, value }).buffer));
    zstd.reset();
    const frame = Buffer.concat([zstd.compressChunk(raw), zstd.compressEnd()]);
    expect(frame.length * 20).toBeLessThan(raw.length); // the package's own guess would be too small
    expect(zstdBound(frame)).toBeGreaterThanOrEqual(raw.length);
    const records = await decoded(withRecords(await encodedBatch(CompressionTypes.ZSTD, big.map(() => Buffer.from('x'))), frame));
    expect(same(records.map((r) => r.value), big)).toBe(true);
  });

  it('bounds a frame with a content size by it, and refuses a truncated frame', async () => {
    const zstd = await Zstd.load();
    const frame = Buffer.from(zstd.compress(Buffer.alloc(1000, 1)));
    expect(zstdBound(frame)).toBe(1000);
    expect(() => zstdBound(frame.subarray(0, frame.length - 2))).toThrow(/truncated/);
  });
});
