import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ProduceArgs, crc32c, encodable, encodeProduce, installProduceEncoding } from './produce-encoding.ts';

const require = createRequire(import.meta.url);
type V3 = (args: ProduceArgs) => { encode: () => Promise<{ buffer: Buffer }> };
/** kafkajs's own Produce v3 body encoder (v4-v7 reuse it), which the replacement must match byte for byte. */
const kafkajsV3 = require('kafkajs/src/protocol/requests/produce/v3/request') as V3;
const kafkajsCrc = require('kafkajs/src/protocol/recordBatch/crc32C') as (b: Buffer) => number;

const NOW = 1_760_000_000_123;

function args(compression: number): ProduceArgs {
  const big = Buffer.alloc(70_000, 7); // a value whose length needs a 3-byte varint
  return {
    acks: -1,
    timeout: 10_000,
    compression,
    producerId: -1,
    producerEpoch: 0,
    topicData: [
      {
        topic: 'otel_spans',
        partitions: [
          { partition: 0, firstSequence: 0, messages: [{ key: 'a1b2', value: Buffer.from('first') }, { key: Buffer.from([1, 2, 3]), value: big }] },
          { partition: 5, firstSequence: 0, messages: Array.from({ length: 200 }, (_, i) => ({ key: `trace-${i}`, value: Buffer.from(`span bytes ${i}`.repeat(i % 13)) })) },
        ],
      },
      { topic: 'otel_logs', partitions: [{ partition: 2, messages: [{ key: null, value: 'a log' }, { value: null }] }] },
    ],
  };
}

describe('produce encoding', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each([
    ['uncompressed', kafkajs.CompressionTypes.None],
    ['gzip', kafkajs.CompressionTypes.GZIP],
  ])('writes the same bytes as kafkajs (%s)', async (_name, compression) => {
    vi.spyOn(Date, 'now').mockReturnValue(NOW);
    const theirs = (await kafkajsV3(args(compression)).encode()).buffer;
    const ours = await encodeProduce(args(compression), NOW);
    expect(ours.equals(theirs)).toBe(true);
  });

  it('computes the CRC32C kafkajs computes', () => {
    const data = Buffer.from(Array.from({ length: 1037 }, (_, i) => (i * 31 + 7) & 0xff));
    for (const [start, end] of [[0, 0], [0, 1], [0, 7], [0, 8], [3, 1037], [0, 1037]] as const) {
      expect(crc32c(data, start, end)).toBe(kafkajsCrc(data.subarray(start, end)));
    }
    // The check value of CRC-32C ("123456789").
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('leaves transactional, idempotent and timestamped or header-carrying produce requests to kafkajs', () => {
    const plain = args(0);
    expect(encodable(plain)).toBe(true);
    expect(encodable({ ...plain, transactionalId: 'tx' })).toBe(false);
    expect(encodable({ ...plain, producerId: 42 })).toBe(false);
    const withHeaders = args(0);
    withHeaders.topicData[0]!.partitions[0]!.messages[0]!.headers = { h: 'v' };
    expect(encodable(withHeaders)).toBe(false);
    const withTimestamp = args(0);
    withTimestamp.topicData[0]!.partitions[0]!.messages[0]!.timestamp = '1';
    expect(encodable(withTimestamp)).toBe(false);
  });

  it('is installed at the Produce definition kafkajs looks up for each request', async () => {
    expect(installProduceEncoding()).toBe(true);
    const produce = require('kafkajs/src/protocol/requests/produce/index.js') as { protocol: (o: { version: number }) => (a: ProduceArgs) => { request: { encode: () => Promise<{ buffer: Buffer }>; apiVersion: number } } };
    vi.spyOn(Date, 'now').mockReturnValue(NOW);
    const { request } = produce.protocol({ version: 7 })(args(kafkajs.CompressionTypes.GZIP));
    expect(request.apiVersion).toBe(7);
    expect((await request.encode()).buffer.equals((await kafkajsV3(args(kafkajs.CompressionTypes.GZIP)).encode()).buffer)).toBe(true);
  });
});
