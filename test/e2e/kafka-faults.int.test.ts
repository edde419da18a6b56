/**
 * Faults on the Kafka path, with each role in its own process as in Kubernetes:
 * - the writer is killed with SIGKILL mid-stream and restarted: every acknowledged span is stored exactly once;
 *   then killed with every commit lost (the group rewound to the start), so the restarted writer must replay
 *   every recorded range: it counts the replays, and ClickHouse counts the blocks it dropped as duplicates;
 * - the broker stops and restarts mid-stream: clients get retryable errors (503 + Retry-After), and nothing
 *   acknowledged is lost;
 * - ClickHouse is unavailable for a while (server mode, through the ClickHouse HTTP test double over the real
 *   chDB engine, since no ClickHouse server can run here): lag grows, then drains, nothing lost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '#storage/client.ts';
import { param, sql } from '#storage/sql.ts';
import { startClickHouseHttp } from '../support/clickhouse-http/process.ts';
import { type CrowsnestProcess, startCrowsnest } from '../support/crowsnest-process.ts';
import { eventually } from '../support/eventually.ts';
import { type TestBroker, freePort, startTestBroker } from '../support/kafka.ts';

let broker: TestBroker;
const cleanup: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  broker = await startTestBroker();
}, 600_000);
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  await broker?.destroy();
});

function removeLater(dir: string): void {
  cleanup.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
}

/** Topics and group of one scenario, so scenarios never see each other's messages. */
function kafkaArgs(name: string): string[] {
  return [
    '--kafka-brokers', broker.bootstrap,
    '--kafka-topic-spans', `${name}_spans`, '--kafka-topic-logs', `${name}_logs`, '--kafka-topic-metrics', `${name}_metrics`,
    '--kafka-topic-dlq', `${name}_dlq`, '--kafka-group-id', `${name}-writer`, '--kafka-partitions', '3',
  ];
}

/** A writer's arguments: the scenario's Kafka settings and its own batching. */
function writerArgs(name: string): string[] {
  return [...kafkaArgs(name), '--kafka-batch-max-age-ms', '100'];
}

async function gateway(name: string): Promise<{ proc: CrowsnestProcess; otlpHttp: string }> {
  const otlpPort = await freePort();
  const proc = await startCrowsnest('gateway', [...kafkaArgs(name), '--otlp-http-port', String(otlpPort), '--otlp-grpc-port', String(await freePort())], await freePort());
  cleanup.push(() => proc.stop());
  return { proc, otlpHttp: `http://127.0.0.1:${otlpPort}` };
}

/** Batches of spans with fresh ids, as real SDK objects. */
function batch(service: string, n: number): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const tp = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': service }), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = tp.getTracer('faults');
  for (let i = 0; i < n; i++) tracer.startSpan(`op-${i % 7}`).end();
  return exporter.getFinishedSpans();
}

async function pipelineLag(apiUrl: string, topic: string): Promise<number> {
  const body = (await (await fetch(`${apiUrl}/api/v1/pipeline`)).json()) as any;
  const t = body.topics?.find((x: any) => x.topic === topic);
  // Only a current reading counts: a monitor that lost the broker keeps its last figures but reports an error.
  if (!t || body.updatedAt === null || body.error !== null || Date.now() - Date.parse(body.updatedAt) > 10_000) throw new Error(`no current lag reading: ${JSON.stringify(body).slice(0, 300)}`);
  return t.lag as number;
}

async function storedSpans(query: (q: ReturnType<typeof sql>) => Promise<{ SpanId: string }[]>, service: string): Promise<string[]> {
  return (await query(sql`SELECT SpanId FROM otel.otel_traces WHERE ServiceName = ${param('String', service)}`)).map((r) => r.SpanId);
}

/** A sample of the process's /metrics, 0 when the series is absent. */
async function metric(apiUrl: string, series: string): Promise<number> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const escaped = series.replace(/[{}"]/g, (c) => `\\${c}`);
  return Number(new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
}

function expectExactlyOnce(stored: string[], acked: Set<string>): void {
  const seen = new Map<string, number>();
  for (const id of stored) seen.set(id, (seen.get(id) ?? 0) + 1);
  const duplicates = [...seen].filter(([, n]) => n > 1);
  expect(duplicates, 'spans stored more than once').toEqual([]);
  const missing = [...acked].filter((id) => !seen.has(id));
  expect(missing, 'acknowledged spans missing').toEqual([]);
}

describe('Kafka faults', () => {
  it('writer killed with SIGKILL mid-stream and restarted: every acknowledged span exactly once', async () => {
    const name = 'kill';
    const { otlpHttp } = await gateway(name);
    const dataDir = mkdtempSync(join(tmpdir(), 'crowsnest-kill-'));
    removeLater(dataDir);
    const writerPort = await freePort();
    const startWriter = () => startCrowsnest('writer', [...writerArgs(name), '--data-dir', dataDir], writerPort);
    let writer = await startWriter();

    const exporter = new OTLPTraceExporter({ url: `${otlpHttp}/v1/traces` });
    const acked = new Set<string>();
    let sent = 0;
    const send = async (batches: number) => {
      for (let b = 0; b < batches; b++) {
        const spans = batch('kill-test', 200);
        const result = await new Promise<{ code: number }>((r) => exporter.export(spans, r));
        sent++;
        if (result.code === 0) for (const s of spans) acked.add(s.spanContext().spanId);
      }
    };
    // Three kill/restart cycles while spans keep flowing, so a kill lands between an insert and its commit.
    for (let cycle = 0; cycle < 3; cycle++) {
      await send(25);
      await writer.kill();
      await send(10); // the gateway keeps accepting: Kafka holds the data while no writer runs
      writer = await startWriter();
    }
    await send(25);
    expect(acked.size).toBe(sent * 200);
    await eventually(async () => expect(await pipelineLag(writer.apiUrl, `${name}_spans`)).toBe(0), 120_000, 500);

    // Whether a kill above landed between an insert and its commit is luck. Make the replay certain: kill the
    // writer once everything is stored, and lose every commit (rewind the group to the start), which is what a
    // kill after the inserts and before the commits leaves behind, for every range at once. The restarted writer
    // finds each range in the ledger and inserts it again with the same tokens; ClickHouse must drop them all.
    await writer.kill();
    const admin = new Kafka({ clientId: 'faults-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      // The killed member stays in the group until its session times out; offsets can be reset only then.
      await eventually(() => admin.resetOffsets({ groupId: `${name}-writer`, topic: `${name}_spans`, earliest: true }), 60_000, 1000);
    } finally {
      await admin.disconnect();
    }
    writer = await startWriter();
    const replay = await eventually(async () => {
      expect(await pipelineLag(writer.apiUrl, `${name}_spans`)).toBe(0);
      const r = {
        ranges: await metric(writer.apiUrl, `crowsnest_kafka_replays_total{topic="${name}_spans"}`),
        rows: await metric(writer.apiUrl, `crowsnest_kafka_replayed_rows_total{topic="${name}_spans"}`),
        droppedBlocks: await metric(writer.apiUrl, 'crowsnest_clickhouse_duplicated_inserted_blocks'),
      };
      expect(r.rows).toBeGreaterThanOrEqual(acked.size); // the commits land before the last rows are counted
      return r;
    }, 120_000, 500);
    // No new spans since the rewind: nothing this writer inserted was new, and ClickHouse dropped every block of it
    // (otel_traces and the trace-id view's table each count theirs, hence at least one per range).
    expect(replay.ranges).toBeGreaterThan(0);
    expect(replay.droppedBlocks).toBeGreaterThanOrEqual(replay.ranges);
    expect(await metric(writer.apiUrl, 'crowsnest_written_rows_total{table="otel_traces"}')).toBe(replay.rows);
    await writer.stop();

    const store = createStore({ dataDir, database: 'otel' });
    try {
      const stored = await storedSpans((q) => store.rows(q), 'kill-test');
      expectExactlyOnce(stored, acked);
      const [ledger] = await store.rows<{ n: string }>(sql`SELECT count() AS n FROM otel.crowsnest_kafka_batches`);
      expect(Number(ledger!.n)).toBeGreaterThan(0);
      // Every range the ledger recorded was replayed (a rebalance during the restart may replay one twice), and
      // every stored row was inserted again: without ClickHouse dropping them, each span would be there twice.
      const [ranges] = await store.rows<{ n: string }>(
        sql`SELECT uniqExact(partition, first_offset) AS n FROM otel.crowsnest_kafka_batches WHERE topic = ${param('String', `${name}_spans`)}`,
      );
      expect(replay.ranges).toBeGreaterThanOrEqual(Number(ranges!.n));
      expect(replay.rows).toBeGreaterThanOrEqual(stored.length);
    } finally {
      await store.close();
    }
  });

  it('broker stopped and restarted mid-stream: 503 + Retry-After meanwhile, nothing acknowledged lost', async () => {
    const name = 'broker';
    const { otlpHttp } = await gateway(name);
    const dataDir = mkdtempSync(join(tmpdir(), 'crowsnest-broker-'));
    removeLater(dataDir);
    const writer = await startCrowsnest('writer', [...writerArgs(name), '--data-dir', dataDir], await freePort());
    cleanup.push(() => writer.stop());

    const acked = new Set<string>();
    const statuses: number[] = [];
    const retryAfter = new Set<string>();
    const post = async () => {
      const spans = batch('broker-test', 50);
      const res = await fetch(`${otlpHttp}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: ProtobufTraceSerializer.serializeRequest(spans)!,
        signal: AbortSignal.timeout(30_000),
      }).catch(() => undefined);
      statuses.push(res?.status ?? 0);
      if (res?.status === 200) for (const s of spans) acked.add(s.spanContext().spanId);
      else if (res) retryAfter.add(res.headers.get('retry-after') ?? '');
      await res?.arrayBuffer();
    };
    for (let i = 0; i < 10; i++) await post();
    await broker.stop();
    for (let i = 0; i < 5; i++) await post();
    await broker.start();
    // Back to 200s once the producer reconnects.
    await eventually(async () => {
      await post();
      expect(statuses.at(-1)).toBe(200);
    }, 120_000, 500);
    for (let i = 0; i < 10; i++) await post();

    const failed = statuses.filter((s) => s !== 200);
    expect(failed.length).toBeGreaterThan(0);
    expect(new Set(failed)).toEqual(new Set([503]));
    expect([...retryAfter].every((v) => Number(v) > 0)).toBe(true);
    await eventually(async () => expect(await pipelineLag(writer.apiUrl, `${name}_spans`)).toBe(0), 120_000, 500);
    await writer.stop();
    const store = createStore({ dataDir, database: 'otel' });
    try {
      const stored = await storedSpans((q) => store.rows(q), 'broker-test');
      const missing = [...acked].filter((id) => !stored.includes(id));
      expect(missing, 'acknowledged spans missing').toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('ClickHouse unavailable for a while (server mode, writer and query apart): lag grows, then drains, nothing lost', async () => {
    const name = 'chdown';
    const chDir = mkdtempSync(join(tmpdir(), 'crowsnest-ch-'));
    removeLater(chDir);
    let ch = await startClickHouseHttp({ dataDir: chDir });
    const chPort = ch.port;
    cleanup.push(() => ch.stop());
    const { otlpHttp } = await gateway(name);
    const writer = await startCrowsnest('writer', [...writerArgs(name), '--clickhouse-url', ch.url], await freePort());
    cleanup.push(() => writer.stop());
    // The query process reports the pipeline of a split deployment (its monitor reads the writer group's offsets).
    const query = await startCrowsnest('query', [...kafkaArgs(name), '--clickhouse-url', ch.url], await freePort());
    cleanup.push(() => query.stop());

    const exporter = new OTLPTraceExporter({ url: `${otlpHttp}/v1/traces` });
    const acked = new Set<string>();
    let lastTrace = '';
    const send = async (batches: number) => {
      for (let b = 0; b < batches; b++) {
        const spans = batch('chdown-test', 100);
        const result = await new Promise<{ code: number }>((r) => exporter.export(spans, r));
        if (result.code === 0) for (const s of spans) acked.add(s.spanContext().spanId);
        lastTrace = spans[0]!.spanContext().traceId;
      }
    };
    await send(10);
    // Everything so far written, so the next message starts a new plan: its ledger lookup is the first thing to
    // meet the outage. (Regression: that lookup's failure was left to kafkajs, uncounted and without backoff.)
    await eventually(async () => expect(await pipelineLag(query.apiUrl, `${name}_spans`)).toBe(0), 60_000, 250);
    await ch.stop();
    await send(20); // ingest keeps acknowledging: the data waits in Kafka
    const lagDuringOutage = await eventually(async () => {
      const lag = await pipelineLag(query.apiUrl, `${name}_spans`);
      expect(lag).toBeGreaterThan(0);
      return lag;
    }, 30_000, 500);
    expect(lagDuringOutage).toBeGreaterThan(0);
    // Lag can show before the writer's first flush attempt has failed: wait for the retry too.
    await eventually(async () => {
      const metrics = await (await fetch(`${writer.apiUrl}/metrics`)).text();
      expect(metrics).toMatch(/crowsnest_writer_retries_total\{topic="chdown_spans"\} [1-9]/);
    }, 30_000, 250);
    ch = await startClickHouseHttp({ dataDir: chDir, port: chPort });
    await send(10);
    await eventually(async () => expect(await pipelineLag(query.apiUrl, `${name}_spans`)).toBe(0), 120_000, 500);

    const client = createClient({ url: ch.url, clickhouse_settings: { output_format_json_quote_64bit_integers: 1 } });
    try {
      const stored = await storedSpans(async (q) => {
        const { text, params } = q.render();
        return (await client.query({ query: text, query_params: params, format: 'JSONEachRow' })).json();
      }, 'chdown-test');
      expectExactlyOnce(stored, acked);
      expect(acked.size).toBe(4000);
    } finally {
      await client.close();
    }
    // The query role, in its own process, reads what the writer wrote.
    const res = await fetch(`${query.apiUrl}/api/v1/traces/${lastTrace}`);
    expect(res.status).toBe(200);
  });
});
