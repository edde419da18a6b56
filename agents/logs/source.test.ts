/**
 * Checkpoint state transitions of the log source, on real files in a temp dir: rotation by rename (with a
 * partial line across it), copytruncate with and without a copy, a restart that rebuilds the batch in flight into
 * the same bytes, inode reuse, a file deleted while the agent was down, rotated files beyond the bound.
 *
 * `RecordingSink` is a test double for the forwarder (agents/forward/http-sink.ts), which the end-to-end test
 * (test/e2e/agent-logs.int.test.ts) runs against a real platform; here it records what it is given, can hang
 * (a gateway that never answers) and can be unhealthy (the source must stop reading).
 */
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, truncateSync, unlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeProtobuf } from '#otlp/decode.ts';
import { silentLogger } from '#core/log.ts';
import { eventually } from '../../test/support/eventually.ts';
import type { Batch, Settled, Sink } from '../core/contracts.ts';
import { LogSource, type LogSourceOptions } from './source.ts';

class RecordingSink implements Sink {
  healthy = true;
  hang = false;
  readonly bodies: Buffer[] = [];
  /** Requests as they came (compressed when the source compressed them), for byte comparisons. */
  readonly wire: Buffer[] = [];
  send(batch: Batch, signal?: AbortSignal): Promise<Settled> {
    // Copies: the source may reuse an uncompressed body's buffer once the send settled.
    this.wire.push(Buffer.from(batch.body));
    this.bodies.push(batch.encoding === 'gzip' ? gunzipSync(batch.body) : Buffer.from(batch.body));
    if (this.hang) return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason as Error)));
    return Promise.resolve({ ok: true });
  }
  records(from = 0): { body: string; stream: string; pod: string }[] {
    return this.bodies.slice(from).flatMap((b) =>
      decodeProtobuf('logs', b).tables.otel_logs!.map((r) => ({ body: r.Body, stream: r.LogAttributes['log.iostream'] ?? '', pod: r.ResourceAttributes['k8s.pod.name'] ?? '' })),
    );
  }
}

let dir: string;
let logDir: string;
let dataDir: string;
const sources: LogSource[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'agent-logs-'));
  logDir = join(dir, 'pods', 'shop_cart-1_uid-1', 'app');
  dataDir = join(dir, 'data');
  mkdirSync(logDir, { recursive: true });
});
afterEach(async () => {
  for (const s of sources.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
const T = () => `2024-01-02T03:04:05.${String(++n).padStart(9, '0')}Z`;
const cri = (text: string, stream = 'stdout', tag = 'F') => `${T()} ${stream} ${tag} ${text}\n`;
const lines = (from: number, to: number, stream = 'stdout') => Array.from({ length: to - from }, (_, i) => cri(`line ${from + i}`, stream)).join('');

async function start(sink: Sink, over: Partial<LogSourceOptions> = {}): Promise<{ source: LogSource; registry: Registry }> {
  const registry = new Registry();
  const source = new LogSource(
    { sink, log: silentLogger(), registry },
    {
      globs: [join(dir, 'pods', '*', '*', '*.log')],
      dataDir,
      nodeName: 'node-1',
      readFrom: 'beginning',
      scanIntervalMs: 50,
      pollIntervalMs: 10,
      maxHeldBytes: 1 << 24,
      multiline: [],
      maxLineBytes: 64 * 1024,
      maxRecordBytes: 64 * 1024,
      batchMaxRecords: 100,
      batchMaxBytes: 1 << 20,
      batchLingerMs: 200,
      flushTimeoutMs: 200,
      rotateWaitMs: 300,
      maxOpenRotated: 5,
      readChunkBytes: 4096,
      maxPending: 1000,
      gzip: true,
      ...over,
    },
  );
  await source.start();
  sources.push(source);
  return { source, registry };
}

const lost = async (registry: Registry) =>
  (await registry.getSingleMetric('crowsnest_agent_lost_lines_total')!.get()).values.filter((v) => v.value > 0).map((v) => [v.labels['reason'], v.value]);

const bodies = (sink: RecordingSink) => sink.records().map((r) => r.body);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `line ${from + i}`);

describe('log source checkpoints', { timeout: 30_000 }, () => {
  it('follows a rotation by rename and joins a partial line cut by it', async () => {
    const sink = new RecordingSink();
    const live = join(logDir, '0.log');
    writeFileSync(live, lines(0, 50));
    const { registry } = await start(sink);
    await eventually(() => expect(bodies(sink)).toEqual(range(0, 50)), 10_000, 20);
    appendFileSync(live, lines(50, 60) + cri('partial begins ', 'stdout', 'P'));
    renameSync(live, join(logDir, '0.log.20240102-030405'));
    writeFileSync(live, cri('and ends') + lines(60, 70));
    const want = [...range(0, 60), 'partial begins and ends', ...range(60, 70)];
    await eventually(() => expect(bodies(sink)).toEqual(want), 10_000, 20);
    // The rotated file, finished, is still on disk: later scans must not read it again (regression: they did).
    await new Promise((r) => setTimeout(r, 500));
    expect(bodies(sink)).toEqual(want);
    expect(await lost(registry)).toEqual([]);
  });

  it('recovers the tail of a copytruncate from the copy', async () => {
    const sink = new RecordingSink();
    const live = join(logDir, '0.log');
    writeFileSync(live, lines(0, 20));
    const { registry } = await start(sink);
    await eventually(() => expect(bodies(sink)).toHaveLength(20), 10_000, 20);
    sink.healthy = false; // reading stops: lines 20-29 are written and copied away before the source sees them
    await new Promise((r) => setTimeout(r, 100));
    appendFileSync(live, lines(20, 30));
    copyFileSync(live, join(logDir, '0.log.1'));
    truncateSync(live, 0);
    appendFileSync(live, lines(30, 35));
    sink.healthy = true;
    await eventually(() => expect(bodies(sink)).toEqual(range(0, 35)), 10_000, 20);
    expect(await lost(registry)).toEqual([]);
  });

  it('counts what a copytruncate without a copy lost, and starts the file over', async () => {
    const sink = new RecordingSink();
    const live = join(logDir, '0.log');
    writeFileSync(live, lines(0, 20));
    const { registry } = await start(sink);
    await eventually(() => expect(bodies(sink)).toHaveLength(20), 10_000, 20);
    sink.healthy = false;
    await new Promise((r) => setTimeout(r, 100));
    truncateSync(live, 0);
    appendFileSync(live, lines(100, 103));
    sink.healthy = true;
    await eventually(() => expect(bodies(sink)).toEqual([...range(0, 20), ...range(100, 103)]), 10_000, 20);
    // Nothing was between the last read and the truncation here: the file only started over.
    expect(await lost(registry)).toEqual([]);
  });

  it('after a restart, rebuilds the batch in flight into the same bytes and then goes on without repeats', async () => {
    const sink = new RecordingSink();
    const live = join(logDir, '0.log');
    writeFileSync(live, lines(0, 30));
    const first = await start(sink, { batchMaxRecords: 10 });
    await eventually(() => expect(bodies(sink)).toHaveLength(30), 10_000, 20);
    const sent = sink.bodies.length;
    sink.hang = true; // the gateway stores the next batch but its answer never comes (a crash)
    appendFileSync(live, lines(30, 45));
    await eventually(() => expect(sink.bodies).toHaveLength(sent + 1), 10_000, 20);
    const inflight = sink.bodies[sent]!;
    await first.source.close();
    sources.splice(sources.indexOf(first.source), 1);
    appendFileSync(live, lines(45, 60));

    const again = new RecordingSink();
    const second = await start(again, { batchMaxRecords: 10 });
    await eventually(() => expect(bodies(again)).toEqual(range(30, 60)), 10_000, 20);
    expect(Buffer.compare(again.bodies[0]!, inflight)).toBe(0);
    // Compressed the same way: the same request on the wire (what the gateway's retry recognition hashes).
    expect(Buffer.compare(again.wire[0]!, sink.wire[sent]!)).toBe(0);
    expect(await lost(second.registry)).toEqual([]);
  });

  it('resumes exactly at the acknowledged position when the last batch was acknowledged', async () => {
    const sink = new RecordingSink();
    const live = join(logDir, '0.log');
    writeFileSync(live, lines(0, 25));
    const first = await start(sink);
    await eventually(() => expect(bodies(sink)).toHaveLength(25), 10_000, 20);
    renameSync(live, join(logDir, '0.log.20240102-030405')); // finished and acknowledged, left on disk
    writeFileSync(live, lines(25, 30));
    await eventually(() => expect(bodies(sink)).toHaveLength(30), 10_000, 20);
    await first.source.close();
    sources.splice(0);
    appendFileSync(live, lines(30, 40));
    const again = new RecordingSink();
    await start(again);
    await eventually(() => expect(bodies(again)).toEqual(range(30, 40)), 10_000, 20);
    await new Promise((r) => setTimeout(r, 300));
    expect(bodies(again)).toEqual(range(30, 40));
  });

  it('treats a reused inode with other first bytes as a new file', async () => {
    const sink = new RecordingSink();
    const live = join(logDir, '0.log');
    writeFileSync(live, lines(0, 10));
    const first = await start(sink);
    await eventually(() => expect(bodies(sink)).toHaveLength(10), 10_000, 20);
    await first.source.close();
    sources.splice(0);
    // Same path and (on most filesystems) the same inode after truncation; other content.
    writeFileSync(live, lines(500, 505));
    const again = new RecordingSink();
    await start(again);
    await eventually(() => expect(bodies(again)).toEqual(range(500, 505)), 10_000, 20);
  });

  it('counts a file deleted with unread lines while the agent was down', async () => {
    const sink = new RecordingSink();
    const live = join(logDir, '0.log');
    writeFileSync(live, lines(0, 10));
    sink.healthy = false; // found, sized, never read
    const first = await start(sink);
    await new Promise((r) => setTimeout(r, 200));
    await first.source.close();
    sources.splice(0);
    unlinkSync(live);
    writeFileSync(live, lines(10, 12));
    const again = new RecordingSink();
    const second = await start(again);
    await eventually(() => expect(bodies(again)).toEqual(range(10, 12)), 10_000, 20);
    expect(await lost(second.registry)).toEqual([['deleted_unread', 1]]);
    const bytes = (await second.registry.getSingleMetric('crowsnest_agent_lost_bytes_total')!.get()).values[0]!.value;
    expect(bytes).toBe(Buffer.byteLength(lines(0, 10).replace(/\.\d{9}Z/g, '.000000000Z')));
  });

  it('gives up rotated files beyond the bound, counting their unread lines exactly', async () => {
    const sink = new RecordingSink();
    const live = join(logDir, '0.log');
    writeFileSync(live, lines(0, 5));
    const { registry } = await start(sink, { maxOpenRotated: 2 });
    await eventually(() => expect(bodies(sink)).toHaveLength(5), 10_000, 20);
    sink.healthy = false;
    await new Promise((r) => setTimeout(r, 100));
    appendFileSync(live, lines(5, 12)); // 7 lines never read
    for (const [i, from] of [[1, 100], [2, 200]] as const) {
      renameSync(live, join(logDir, `0.log.2024010${i}-000000`));
      writeFileSync(live, lines(from, from + 3));
      await eventually(async () => expect((await registry.getSingleMetric('crowsnest_agent_log_files_open')!.get()).values[0]!.value).toBe(i + 1), 10_000, 20);
    }
    unlinkSync(join(logDir, '0.log.20240101-000000'));
    // Three rotated files wait, two may: the oldest (deleted, 7 unread lines) is given up when the third appears.
    renameSync(live, join(logDir, '0.log.20240103-000000'));
    writeFileSync(live, lines(300, 302));
    await eventually(async () => expect(await lost(registry)).toEqual([['deleted_unread', 7]]), 10_000, 20);
    sink.healthy = true;
    await eventually(() => expect(bodies(sink)).toEqual([...range(0, 5), ...range(100, 103), ...range(200, 203), ...range(300, 302)]), 10_000, 20);
  });
});
