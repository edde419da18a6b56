import { randomBytes } from 'node:crypto';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { JavaCompatiblePartitioner, murmur2 } from './partitioner.ts';

const partitions = (n: number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));

describe('murmur2', () => {
  it("matches the hashes in Apache Kafka's own tests of Utils.murmur2", () => {
    const cases: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, hash] of cases) expect(murmur2(Buffer.from(key))).toBe(hash);
  });

  it("picks the partition kafkajs's DefaultPartitioner picks, for string and byte keys of every length", () => {
    const ours = JavaCompatiblePartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    for (let i = 0; i < 5000; i++) {
      const bytes = randomBytes(i % 40);
      const key = i % 2 === 0 ? bytes.toString('hex') : bytes;
      const meta = partitions(1 + (i % 13));
      const args = { topic: 't', partitionMetadata: meta, message: { key, value: null } };
      expect(ours(args)).toBe(theirs(args));
    }
  });

  it('keeps an explicit partition and spreads keyless messages over partitions with a leader', () => {
    const p = JavaCompatiblePartitioner();
    const meta = partitions(4);
    meta[2]!.leader = -1;
    expect(p({ topic: 't', partitionMetadata: meta, message: { key: 'k', value: null, partition: 3 } })).toBe(3);
    const seen = new Set(Array.from({ length: 30 }, () => p({ topic: 't', partitionMetadata: meta, message: { value: null } })));
    expect([...seen].sort()).toEqual([0, 1, 3]);
  });
});
