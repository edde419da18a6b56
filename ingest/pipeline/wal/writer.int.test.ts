import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtobufLogsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '#core/log.ts';
import { createMetrics } from '#core/metrics.ts';
import { type Store, createStore } from '#storage/client.ts';
import { type Codecs, loadCodecs } from '#storage/codecs.ts';
import { migrate } from '#storage/migrate.ts';
import { param, sql } from '#storage/sql.ts';
import { eventually } from '../../../test/support/eventually.ts';
import { WriteAheadLog } from './log.ts';
import { createWalMetrics } from './metrics.ts';
import { WalWriter } from './writer.ts';

const root = mkdtempSync(join(tmpdir(), 'crowsnest-wal-writer-'));
let store: Store;
let codecs: Codecs;
beforeAll(async () => {
  store = createStore({ dataDir: join(root, 'ch'), database: 'otel' });
  await migrate(store, { database: 'otel', ttlDays: { traces: 7, logs: 7, metrics: 30 } }, silentLogger());
  codecs = await loadCodecs(store, 'otel');
});
afterAll(async () => {
  await store.close();
  rmSync(root, { recursive: true, force: true });
});

let dirs = 0;
function freshWal(): WriteAheadLog {
  return WriteAheadLog.open({ dir: join(root, `wal-${++dirs}`), maxBytes: 64 * 1024 * 1024 });
}

function spans(service: string, n: number): Uint8Array {
  const exporter = new InMemorySpanExporter();
  const tp = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': service }), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  for (let i = 0; i < n; i++) tp.getTracer('w').startSpan(`op-${i}`, { attributes: { i } }).end();
  return ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!;
}

function logs(service: string, n: number): Uint8Array {
  const exporter = new InMemoryLogRecordExporter();
  const lp = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': service }), processors: [new SimpleLogRecordProcessor({ exporter })] });
  for (let i = 0; i < n; i++) lp.getLogger('w').emit({ body: `line ${i}`, attributes: { i } });
  return ProtobufLogsSerializer.serializeRequest(exporter.getFinishedLogRecords())!;
}

async function append(wal: WriteAheadLog, signal: 'traces' | 'logs', bytes: Uint8Array): Promise<void> {
  const r = wal.tryAppend(signal, bytes);
  if (!r.ok) throw new Error(r.message);
  await r.durable;
}

async function counts(service: string): Promise<{ spans: number; logs: number }> {
  const [t] = await store.rows<{ n: string }>(sql`SELECT count() AS n FROM otel.otel_traces WHERE ServiceName = ${param('String', service)}`);
  const [l] = await store.rows<{ n: string }>(sql`SELECT count() AS n FROM otel.otel_logs WHERE ServiceName = ${param('String', service)}`);
  return { spans: Number(t!.n), logs: Number(l!.n) };
}

async function duplicatedBlocks(): Promise<number> {
  const [r] = await store.rows<{ n: string }>(sql`SELECT sum(value) AS n FROM system.events WHERE event = 'DuplicatedInsertedBlocks'`);
  return Number(r?.n ?? 0);
}

function writerFor(wal: WriteAheadLog, s: Store = store, maxAgeMs = 50) {
  const metrics = createMetrics();
  const wmetrics = createWalMetrics(metrics, wal);
  const writer = new WalWriter(wal, s, { database: 'otel', codecs, maxRows: 100_000, maxAgeMs, maxBackoffMs: 100 }, metrics, wmetrics, silentLogger());
  return { writer, metrics, wmetrics };
}

describe('WAL writer', () => {
  it('inserts every durable record, then commits the checkpoint so nothing is pending', async () => {
    const wal = freshWal();
    const { writer } = writerFor(wal);
    await writer.start();
    for (let i = 0; i < 5; i++) await append(wal, 'traces', spans('plain', 20));
    await append(wal, 'logs', logs('plain', 7));
    await eventually(async () => expect(await counts('plain')).toEqual({ spans: 100, logs: 7 }));
    await eventually(() => expect(writer.status()).toMatchObject({ pendingRecords: 0, pendingBytes: 0, insertedOffset: '6', appendedOffset: '6', error: null }));
    await writer.close();
    await wal.close();
  });

  it('replays a plan recorded before a crash with the same tokens: every row once, ClickHouse drops the duplicate blocks', async () => {
    const wal = freshWal();
    await append(wal, 'traces', spans('replay', 30));
    await append(wal, 'logs', logs('replay', 11));
    // A "crash" after the ledger step and the first table's insert: the second table's insert never succeeds.
    let failLogs = true;
    const crashing: Store = {
      ...store,
      insert: (statement, opts) => (failLogs && String(opts?.settings?.insert_deduplication_token ?? '').endsWith(':otel_logs') ? Promise.reject(new Error('crash')) : store.insert(statement, opts)),
    };
    const first = writerFor(wal, crashing);
    await first.writer.start();
    await eventually(async () => expect(await counts('replay')).toEqual({ spans: 30, logs: 0 }));
    await eventually(() => expect(first.writer.status().error).toBe('crash'));
    expect(first.writer.notReady()).toMatch(/inserts into ClickHouse are failing: crash/);
    await first.writer.close(); // stops retrying; nothing committed
    const dir = wal.dir;
    await wal.close();
    failLogs = false;

    const reopened = WriteAheadLog.open({ dir, maxBytes: 64 * 1024 * 1024 });
    expect(reopened.checkpoint.offset).toBe(0);
    const before = await duplicatedBlocks();
    const second = writerFor(reopened);
    await second.writer.start();
    await eventually(async () => expect(await counts('replay')).toEqual({ spans: 30, logs: 11 }));
    await eventually(() => expect(second.writer.status().pendingRecords).toBe(0));
    expect(await duplicatedBlocks()).toBeGreaterThan(before); // the spans' block came again and was dropped
    expect((await second.wmetrics.replays.get()).values[0]?.value).toBe(1);
    await second.writer.close();
    await reopened.close();
  });

  it('keeps retrying while ClickHouse fails, says why, and recovers by itself', async () => {
    const wal = freshWal();
    let down = true;
    const flaky: Store = { ...store, insert: (s, o) => (down ? Promise.reject(new Error('ClickHouse is down')) : store.insert(s, o)) };
    const { writer, wmetrics } = writerFor(wal, flaky);
    await writer.start();
    await append(wal, 'traces', spans('flaky', 4));
    await eventually(() => expect(writer.notReady()).toMatch(/ClickHouse is down/));
    expect(writer.status()).toMatchObject({ pendingRecords: 1, error: 'ClickHouse is down' });
    expect((await wmetrics.retries.get()).values[0]?.value).toBeGreaterThan(0);
    down = false;
    await eventually(async () => expect(await counts('flaky')).toEqual({ spans: 4, logs: 0 }));
    await eventually(() => expect(writer.notReady()).toBeUndefined());
    await writer.close();
    await wal.close();
  });

  it('moves a record that cannot be decoded to dead/ and goes on with the next ones', async () => {
    const wal = freshWal();
    const { writer, wmetrics } = writerFor(wal);
    await writer.start();
    await append(wal, 'traces', Buffer.from([0x0a, 0xff, 0xff])); // a length running past the end
    await append(wal, 'traces', spans('after-dead', 3));
    await eventually(async () => expect(await counts('after-dead')).toEqual({ spans: 3, logs: 0 }));
    expect(writer.status().deadLettered).toBe(1);
    expect(readdirSync(join(wal.dir, 'dead')).sort()).toEqual(['record-0-traces.pb', 'record-0-traces.txt']);
    expect((await wmetrics.deadLettered.get()).values).toEqual([expect.objectContaining({ value: 1, labels: { reason: 'undecodable' } })]);
    await writer.close();
    await wal.close();
  });

  it('inserts what is planned when it closes, without waiting out maxAgeMs', async () => {
    const wal = freshWal();
    const { writer } = writerFor(wal, store, 60_000);
    await writer.start();
    await append(wal, 'traces', spans('on-close', 6));
    await new Promise((r) => setTimeout(r, 200));
    expect(await counts('on-close')).toEqual({ spans: 0, logs: 0 });
    await writer.close();
    expect(await counts('on-close')).toEqual({ spans: 6, logs: 0 });
    expect(wal.checkpoint.offset).toBe(1);
    await wal.close();
  });
});
