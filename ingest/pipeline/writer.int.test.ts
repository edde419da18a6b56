import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

async function count(service: string): Promise<number> {
  const [r] = await store.rows<{ n: string }>(sql`SELECT count() AS n FROM otel.otel_traces WHERE ServiceName = ${param('String', service)}`);
  return Number(r!.n);
}

describe('BatchWriter', () => {
  it('resolves every write once its rows are inserted, across size-triggered and concurrent inserts', async () => {
    const metrics = createMetrics();
    const writer = new BatchWriter(store, { database: 'otel', codecs, maxRows: 500, maxAgeMs: 60_000 }, metrics, silentLogger());
    await Promise.all(Array.from({ length: 12 }, () => writer.write(request('size', 100))));
    expect(await count('size')).toBe(1200);
    const batches = (await metrics.batchRows.get()).values.find((v) => v.metricName === 'crowsnest_batch_rows_count');
    expect(batches?.value).toBeGreaterThan(1); // more than one insert, none of them tiny
    await writer.close();
  });

  it('flushes a small batch once it is maxAgeMs old', async () => {
    const writer = new BatchWriter(store, { database: 'otel', codecs, maxRows: 100_000, maxAgeMs: 100 }, createMetrics(), silentLogger());
    const started = Date.now();
    await writer.write(request('age', 3));
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(await count('age')).toBe(3);
    await writer.close();
  });

  it('rejects the writes of a batch whose insert keeps failing, after its attempts', async () => {
    const metrics = createMetrics();
    const writer = new BatchWriter(store, { database: 'no_such_db', codecs, maxRows: 10, maxAgeMs: 10, attempts: 2, backoffMs: 5 }, metrics, silentLogger());
    await expect(writer.write(request('fail', 3))).rejects.toThrow(/no_such_db|UNKNOWN_DATABASE|does not exist/i);
    const errors = (await metrics.writeErrors.get()).values[0]?.value;
    expect(errors).toBe(2);
    await writer.close();
  });

  it('flushes what is queued on close', async () => {
    const writer = new BatchWriter(store, { database: 'otel', codecs, maxRows: 100_000, maxAgeMs: 60_000 }, createMetrics(), silentLogger());
    const pending = writer.write(request('close', 5));
    await writer.close();
    await pending;
    expect(await count('close')).toBe(5);
  });
});
