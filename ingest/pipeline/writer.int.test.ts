import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '#core/log.ts';
import { createMetrics } from '#core/metrics.ts';
import { decodeProtobuf } from '#otlp/decode.ts';
import type { DecodedRequest } from '#otlp/rows.ts';
import { type Store, createStore } from '#storage/client.ts';
import { type Codecs, loadCodecs } from '#storage/codecs.ts';
import { migrate } from '#storage/migrate.ts';
import { param, sql } from '#storage/sql.ts';
import { BatchWriter } from './writer.ts';

const dir = mkdtempSync(join(tmpdir(), 'crowsnest-writer-'));
let store: Store;
let codecs: Codecs;
beforeAll(async () => {
  store = createStore({ dataDir: dir, database: 'otel' });
  await migrate(store, { database: 'otel', ttlDays: { traces: 7, logs: 7, metrics: 30 } }, silentLogger());
  codecs = await loadCodecs(store, 'otel');
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function request(service: string, spans: number): DecodedRequest {
  const exporter = new InMemorySpanExporter();
  const tp = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': service }), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  for (let i = 0; i < spans; i++) tp.getTracer('w').startSpan(`op-${i}`, { attributes: { i, big: 'x'.repeat(i % 300) } }).end();
  return decodeProtobuf('traces', ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!);
}

/**
 * The store as the writer sees it, watched: inserts in flight at once, insert calls, and a snapshot of the rows
 * stored per service taken after each insert returned and before the writer hears of it. A write that resolves
 * must find its rows in the latest snapshot: that is what "resolves once its rows are inserted" means.
 */
function watched(real: Store) {
  const w = { inFlight: 0, maxInFlight: 0, calls: 0, stored: new Map<string, number>() };
  const store: Store = {
    ...real,
    async insert(statement, opts) {
      w.calls++;
      w.maxInFlight = Math.max(w.maxInFlight, ++w.inFlight);
      try {
        const seconds = await real.insert(statement, opts);
        const rows = await real.rows<{ s: string; n: string }>(sql`SELECT ServiceName AS s, count() AS n FROM otel.otel_traces GROUP BY s`);
        w.stored = new Map(rows.map((r) => [r.s, Number(r.n)]));
        return seconds;
      } finally {
        w.inFlight--;
      }
    },
  };
  return { store, w };
}

/** The row count of every insert the writer reports (its batch-rows histogram), in order. */
function insertSizes(metrics: ReturnType<typeof createMetrics>): number[] {
  const sizes: number[] = [];
  const observe = metrics.batchRows.observe.bind(metrics.batchRows);
  vi.spyOn(metrics.batchRows, 'observe').mockImplementation(((labels: { table: string }, value: number) => {
    sizes.push(value);
    observe(labels, value);
  }) as typeof metrics.batchRows.observe);
  return sizes;
}

async function count(service: string): Promise<number> {
  const [r] = await store.rows<{ n: string }>(sql`SELECT count() AS n FROM otel.otel_traces WHERE ServiceName = ${param('String', service)}`);
  return Number(r!.n);
}

describe('BatchWriter', () => {
  it('resolves every write once its rows are inserted, across size-triggered inserts and concurrent writes', async () => {
    const metrics = createMetrics();
    const sizes = insertSizes(metrics);
    const { store: watchedStore, w } = watched(store);
    const writer = new BatchWriter(watchedStore, { database: 'otel', codecs, maxRows: 500, maxAgeMs: 60_000 }, metrics, silentLogger());
    // Each write its own service, and what the store held when it resolved.
    const storedAtResolve = await Promise.all(
      Array.from({ length: 12 }, (_, i) => writer.write(request(`size-${i}`, 100)).then(() => w.stored.get(`size-${i}`) ?? 0)),
    );
    expect(storedAtResolve).toEqual(Array(12).fill(100));
    expect(await count('size-0')).toBe(100);
    const batches = (await metrics.batchRows.get()).values.find((v) => v.metricName === 'crowsnest_batch_rows_count');
    expect(batches?.value).toBeGreaterThan(1); // more than one insert, none of them tiny
    expect(sizes.length).toBeGreaterThan(1);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1200);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(50); // none tiny: no insert below a tenth of maxRows
    expect(Math.max(...sizes)).toBeGreaterThanOrEqual(500); // one went because it held maxRows
    expect(w.maxInFlight).toBe(1); // one insert per table at a time; the next batch filled meanwhile
    await writer.close();
  });

  it('flushes a small batch once it is maxAgeMs old', async () => {
    const metrics = createMetrics();
    const sizes = insertSizes(metrics);
    // Neither size nor group commit can flush 3 rows here (a tenth of maxRows is 10,000): only age can.
    const writer = new BatchWriter(store, { database: 'otel', codecs, maxRows: 100_000, maxAgeMs: 100 }, metrics, silentLogger());
    const started = Date.now();
    await writer.write(request('age', 3));
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(await count('age')).toBe(3);
    expect(sizes).toEqual([3]); // one insert, of the small batch
    await writer.close();
  });

  it('rejects the writes of a batch whose insert keeps failing, after its attempts', async () => {
    const metrics = createMetrics();
    const { store: watchedStore, w } = watched(store);
    const writer = new BatchWriter(watchedStore, { database: 'no_such_db', codecs, maxRows: 10, maxAgeMs: 10, attempts: 2, backoffMs: 5 }, metrics, silentLogger());
    const write = writer.write(request('fail', 3));
    const callsAtRejection = write.then(
      () => -1,
      () => w.calls,
    );
    await expect(write).rejects.toThrow(/no_such_db|UNKNOWN_DATABASE|does not exist/i);
    const errors = (await metrics.writeErrors.get()).values[0]?.value;
    expect(errors).toBe(2);
    expect(await callsAtRejection).toBe(2); // rejected only once both attempts had failed
    await writer.close();
  });

  it('flushes what is queued on close', async () => {
    const writer = new BatchWriter(store, { database: 'otel', codecs, maxRows: 100_000, maxAgeMs: 60_000 }, createMetrics(), silentLogger());
    let settled = false;
    const pending = writer.write(request('close', 5)).finally(() => (settled = true));
    // Nothing would flush these rows for a minute: they wait until close.
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false);
    expect(await count('close')).toBe(0);
    await writer.close();
    expect(settled).toBe(true); // close waited for the insert
    await pending;
    expect(await count('close')).toBe(5);
  });
});
