/**
 * The on-disk queue at its crash points: each test writes what a crash at that point leaves on disk (by closing the
 * queue before the reader ran, then cutting or flipping bytes, or by removing the ack file's update), reopens the
 * directory and checks what the sink receives and what is counted.
 */
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '#core/log.ts';
import { type Batch, QueueFullError, type Settled, type Sink } from '../core/contracts.ts';
import { eventually } from '../../test/support/eventually.ts';
import { DiskQueue } from './disk-queue.ts';
import { HEADER_BYTES, encodeRecord, scanSegment } from './record.ts';

const batch = (i: number, size = 10): Batch => ({ signal: 'metrics', items: i, body: Buffer.alloc(size, i % 256) });

/** A sink that records what it got; `answer` decides each send (the default acknowledges). */
class RecordingSink implements Sink {
  healthy = true;
  got: number[] = [];
  answer: (b: Batch) => Promise<Settled> = () => Promise.resolve({ ok: true });
  /** Like the forwarder, rejects when `signal` aborts, also while an answer is pending. */
  send(b: Batch, signal?: AbortSignal): Promise<Settled> {
    if (signal?.aborted) return Promise.reject(new Error('aborted'));
    return new Promise<Settled>((resolve, reject) => {
      signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      this.answer(b).then((s) => {
        if (signal?.aborted) return;
        this.got.push(b.items);
        resolve(s);
      }, reject);
    });
  }
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'crowsnest-queue-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function openQueue(sink: Sink, opts: { maxBytes?: number; segmentBytes?: number } = {}) {
  const registry = new Registry();
  const q = await DiskQueue.open({ dir, sink, log: silentLogger(), registry, retryDelayMs: 10, ...opts });
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
    const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
    return v?.value ?? 0;
  };
  return { q, registry, metric };
}

/** Enqueues batches 1..n without sending (the reader is not started), then closes: what a crash before any send leaves. */
async function fill(n: number, opts: { segmentBytes?: number } = {}): Promise<void> {
  const { q } = await openQueue(new RecordingSink(), opts);
  for (let i = 1; i <= n; i++) await q.enqueue(batch(i));
  await q.close();
}

const segments = () => readdirSync(dir).filter((f) => f.startsWith('seg-')).sort();
const segPath = (i: number) => join(dir, segments()[i]!);
/** The segment holding records (recovery starts an empty one for writing). */
const dataSegment = () => join(dir, segments().find((f) => statSync(join(dir, f)).size > 0)!);

describe('DiskQueue', () => {
  it('sends enqueued batches in order and deletes acknowledged segments', async () => {
    const sink = new RecordingSink();
    const { q, metric } = await openQueue(sink, { segmentBytes: 100 });
    q.start();
    for (let i = 1; i <= 20; i++) await q.enqueue(batch(i));
    await eventually(() => expect(sink.got).toEqual(Array.from({ length: 20 }, (_, i) => i + 1)), 10_000, 5);
    await eventually(() => expect(q.records).toBe(0), 10_000, 5);
    expect(segments().length).toBeLessThanOrEqual(2);
    expect(await metric('crowsnest_agent_queue_sent_total', { outcome: 'ok' })).toBe(20);
    await q.close();
  });

  it('resolves an enqueue only once its record is on disk', async () => {
    const { q } = await openQueue(new RecordingSink());
    await q.enqueue(batch(7, 100));
    const scan = scanSegment(readFileSync(segPath(0)));
    expect(scan.records).toHaveLength(1);
    expect(scan.records[0]!.size).toBe(HEADER_BYTES + 5 + 100);
    await q.close();
  });

  it('group-commits concurrent enqueues: fewer fsyncs than batches', async () => {
    const { q, metric } = await openQueue(new RecordingSink());
    await Promise.all(Array.from({ length: 50 }, (_, i) => q.enqueue(batch(i))));
    expect(q.records).toBe(50);
    expect(await metric('crowsnest_agent_queue_fsyncs_total')).toBeLessThan(50);
    await q.close();
  });

  it('refuses with QueueFullError at the byte bound and counts it; accepts again once drained', async () => {
    const sink = new RecordingSink();
    const size = encodeRecord(batch(1)).length;
    const { q, metric } = await openQueue(sink, { maxBytes: size * 3 });
    for (let i = 1; i <= 3; i++) await q.enqueue(batch(i));
    await expect(q.enqueue(batch(4))).rejects.toBeInstanceOf(QueueFullError);
    expect(await metric('crowsnest_agent_queue_full_total')).toBe(1);
    q.start();
    await eventually(() => expect(q.records).toBe(0), 10_000, 5);
    await q.enqueue(batch(5));
    await eventually(() => expect(sink.got).toEqual([1, 2, 3, 5]), 10_000, 5);
    await q.close();
  });

  it('keeps batches while the gateway is down and sends them when it is back, in order', async () => {
    const sink = new RecordingSink();
    let up = false;
    // The real forwarder retries inside send until acknowledged; this one waits for "up" the same way.
    sink.answer = async () => {
      while (!up) await new Promise((r) => setTimeout(r, 5));
      return { ok: true };
    };
    const { q } = await openQueue(sink);
    q.start();
    for (let i = 1; i <= 5; i++) await q.enqueue(batch(i));
    expect(sink.got).toEqual([]);
    up = true;
    await eventually(() => expect(sink.got).toEqual([1, 2, 3, 4, 5]), 10_000, 5);
    await q.close();
  });

  it('skips a batch the gateway refuses for good, counts it, and goes on', async () => {
    const sink = new RecordingSink();
    sink.answer = (b) => Promise.resolve(b.items === 2 ? { ok: false, permanent: true, status: 400, reason: 'bad' } : { ok: true });
    const { q, metric } = await openQueue(sink);
    q.start();
    for (let i = 1; i <= 3; i++) await q.enqueue(batch(i));
    await eventually(() => expect(sink.got).toEqual([1, 2, 3]), 10_000, 5);
    expect(await metric('crowsnest_agent_queue_sent_total', { outcome: 'refused' })).toBe(1);
    await q.close();
  });

  it('after a restart sends what was queued and not acknowledged, nothing acknowledged again', async () => {
    const sink = new RecordingSink();
    const first = await openQueue(sink);
    for (let i = 1; i <= 6; i++) await first.q.enqueue(batch(i));
    // Acknowledge the first 3, then "crash" with 3 left.
    let acked = 0;
    sink.answer = async () => {
      if (++acked > 3) await new Promise(() => undefined);
      return { ok: true };
    };
    first.q.start();
    await eventually(() => expect(sink.got).toEqual([1, 2, 3]), 10_000, 5);
    await first.q.close();

    const again = new RecordingSink();
    const second = await openQueue(again);
    expect(second.q.records).toBe(3);
    second.q.start();
    await eventually(() => expect(again.got).toEqual([4, 5, 6]), 10_000, 5);
    await second.q.close();
  });

  it('crash between the ack and the segment delete: the passed segment is removed at open, not resent', async () => {
    await fill(4, { segmentBytes: 60 }); // a few records per segment
    const before = segments();
    // Pretend the reader acknowledged everything in the first segment and moved on, then died before unlinking it.
    const second = before[1]!;
    writeFileSync(join(dir, 'ack.json'), JSON.stringify({ seq: Number(/(\d+)/.exec(second)![1]), offset: 0 }));
    const firstCount = scanSegment(readFileSync(join(dir, before[0]!))).records.length;
    const sink = new RecordingSink();
    const { q } = await openQueue(sink);
    expect(segments()).not.toContain(before[0]);
    q.start();
    await eventually(() => expect(sink.got).toEqual([1, 2, 3, 4].slice(firstCount)), 10_000, 5);
    await q.close();
  });

  it('an ack file torn mid-write (temp file left, old ack intact) resumes from the old ack', async () => {
    await fill(3);
    writeFileSync(join(dir, 'ack.json.tmp'), '{"seq":');
    const sink = new RecordingSink();
    const { q } = await openQueue(sink);
    q.start();
    await eventually(() => expect(sink.got).toEqual([1, 2, 3]), 10_000, 5);
    await q.close();
  });

  it('an unreadable ack file means sending everything again (at-least-once), never a crash', async () => {
    await fill(2);
    writeFileSync(join(dir, 'ack.json'), 'garbage');
    const sink = new RecordingSink();
    const { q } = await openQueue(sink);
    q.start();
    await eventually(() => expect(sink.got).toEqual([1, 2]), 10_000, 5);
    await q.close();
  });

  it('a torn last record, cut at every byte: earlier records survive, the tail is cut and counted', async () => {
    const recordSize = encodeRecord(batch(1)).length;
    for (let cut = 1; cut < recordSize; cut++) {
      rmSync(dir, { recursive: true, force: true });
      dir = mkdtempSync(join(tmpdir(), 'crowsnest-queue-'));
      await fill(3);
      const path = dataSegment();
      truncateSync(path, statSync(path).size - recordSize + cut);
      const sink = new RecordingSink();
      const { q, metric } = await openQueue(sink);
      expect(q.records).toBe(2);
      expect(await metric('crowsnest_agent_queue_dropped_total', { reason: 'torn' })).toBe(1);
      expect(statSync(path).size).toBe(2 * recordSize);
      q.start();
      await eventually(() => expect(sink.got).toEqual([1, 2]), 10_000, 5);
      // New records after the repair are readable.
      await q.enqueue(batch(9));
      await eventually(() => expect(sink.got).toEqual([1, 2, 9]), 10_000, 5);
      await q.close();
    }
  });

  it('garbage appended after the last record (a crash mid-header) is cut', async () => {
    await fill(2);
    appendFileSync(dataSegment(), Buffer.from([0x31, 0x4e, 0x51]));
    const sink = new RecordingSink();
    const { q } = await openQueue(sink);
    q.start();
    await eventually(() => expect(sink.got).toEqual([1, 2]), 10_000, 5);
    await q.close();
  });

  it.each([
    ['a payload byte', HEADER_BYTES + 7],
    ['the CRC', 9],
    ['the length', 4],
    ['the magic', 0],
  ])('a flipped bit in %s of a middle record: that record is skipped and counted, the others delivered', async (_what, at) => {
    await fill(3);
    const path = dataSegment();
    const data = readFileSync(path);
    const recordSize = encodeRecord(batch(1)).length;
    data[recordSize + at]! ^= 0x10;
    writeFileSync(path, data);
    const sink = new RecordingSink();
    const { q, metric } = await openQueue(sink);
    expect(await metric('crowsnest_agent_queue_dropped_total', { reason: 'corrupt' })).toBe(1);
    q.start();
    await eventually(() => expect(sink.got).toEqual([1, 3]), 10_000, 5);
    await q.close();
  });

  it('a corrupt record after a partly acknowledged segment keeps the ack position right', async () => {
    const sink = new RecordingSink();
    const first = await openQueue(sink);
    for (let i = 1; i <= 4; i++) await first.q.enqueue(batch(i));
    let n = 0;
    sink.answer = async () => {
      if (++n > 1) await new Promise(() => undefined);
      return { ok: true };
    };
    first.q.start();
    await eventually(() => expect(sink.got).toEqual([1]), 10_000, 5);
    await first.q.close();
    const path = dataSegment();
    const data = readFileSync(path);
    const recordSize = encodeRecord(batch(1)).length;
    data[2 * recordSize + HEADER_BYTES + 6]! ^= 0xff; // record 3
    writeFileSync(path, data);
    const again = new RecordingSink();
    const second = await openQueue(again);
    second.q.start();
    await eventually(() => expect(again.got).toEqual([2, 4]), 10_000, 5);
    await second.q.close();
  });
});

describe('DiskQueue commits (a producer\'s state written with its batch)', () => {
  const commit = (n: number) => ({ stream: 'k8s-events', data: Buffer.from(`state-${n}`) });
  const text = (c: Uint8Array | undefined) => (c === undefined ? undefined : Buffer.from(c).toString());

  it('round-trips a record with and without a commit, the body unchanged', () => {
    for (const c of [undefined, commit(1), { stream: '', data: new Uint8Array() }, { stream: 'ü-stream', data: Buffer.alloc(70_000, 7) }]) {
      const rec = encodeRecord(batch(3, 50), c);
      const scan = scanSegment(rec);
      expect(scan.records).toEqual([{ offset: 0, size: rec.length }]);
      expect(scan.tornBytes).toBe(0);
    }
  });

  it('gives the newest commit of a stream after a reopen, whether its batch was sent or not', async () => {
    const sink = new RecordingSink();
    const first = await openQueue(sink);
    expect(first.q.lastCommit('k8s-events')).toBeUndefined();
    await first.q.enqueue(batch(1), commit(1));
    await first.q.enqueue(batch(2));
    await first.q.enqueue(batch(3), commit(3));
    expect(text(first.q.lastCommit('k8s-events'))).toBe('state-3');
    await first.q.close();
    const second = await openQueue(sink);
    expect(text(second.q.lastCommit('k8s-events'))).toBe('state-3');
    expect(second.q.lastCommit('other')).toBeUndefined();
    second.q.start();
    await eventually(() => expect(sink.got).toEqual([1, 2, 3]), 10_000, 5);
    await second.q.close();
    // Every record acknowledged (their segments may go at the next pass): the commit stays.
    const third = await openQueue(new RecordingSink());
    expect(text(third.q.lastCommit('k8s-events'))).toBe('state-3');
    await third.q.close();
  });

  it('keeps the newest commit after the segments holding it were acknowledged and deleted', async () => {
    const sink = new RecordingSink();
    const first = await openQueue(sink, { segmentBytes: 60 });
    first.q.start();
    await first.q.enqueue(batch(1), commit(1));
    for (let i = 2; i <= 8; i++) await first.q.enqueue(batch(i));
    await eventually(() => expect(sink.got).toHaveLength(8), 10_000, 5);
    await eventually(() => expect(first.q.records).toBe(0), 10_000, 5);
    const all = segments().map((f) => scanSegment(readFileSync(join(dir, f))).records.length).reduce((a, b) => a + b, 0);
    expect(all).toBeLessThan(8); // the first segment (and its commit record) is gone
    await first.q.close();
    const second = await openQueue(new RecordingSink());
    expect(text(second.q.lastCommit('k8s-events'))).toBe('state-1');
    await second.q.close();
  });

  it('a crash mid-write of a commit record leaves the previous commit (the batch and its state are lost together)', async () => {
    const first = await openQueue(new RecordingSink());
    await first.q.enqueue(batch(1), commit(1));
    await first.q.enqueue(batch(2), commit(2));
    await first.q.close();
    const path = dataSegment();
    truncateSync(path, statSync(path).size - 3);
    const sink = new RecordingSink();
    const second = await openQueue(sink);
    expect(text(second.q.lastCommit('k8s-events'))).toBe('state-1');
    second.q.start();
    await eventually(() => expect(sink.got).toEqual([1]), 10_000, 5);
    await second.q.close();
  });
});
