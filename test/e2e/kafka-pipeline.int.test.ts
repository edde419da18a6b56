/**
 * Through a real Apache Kafka broker: OTel SDK exporters → gateway → Kafka → writer → ClickHouse → query API,
 * with exact counts per signal; bytes from the official otlp_proto serializer written straight to a topic;
 * an undecodable message dead-lettered while its partition moves on; pipeline state on the API and /metrics.
 */
import { context, trace } from '@opentelemetry/api';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import { randomBytes } from 'node:crypto';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '#core/log.ts';
import { createMetrics } from '#core/metrics.ts';
import { LagMonitor } from '../../ingest/kafka/lag.ts';
import { createKafkaMetrics } from '../../ingest/kafka/metrics.ts';
import { param, sql, unsafeRaw } from '#storage/sql.ts';
import { eventually } from '../support/eventually.ts';
import { type TestBroker, startTestBroker } from '../support/kafka.ts';
import { type TestPlatform, getJson, startTestPlatform } from '../support/platform.ts';

let broker: TestBroker;
let platform: TestPlatform;
let kafka: Kafka;

beforeAll(async () => {
  broker = await startTestBroker();
  platform = await startTestPlatform(['--kafka-brokers', broker.bootstrap, '--kafka-partitions', '3', '--kafka-batch-max-age-ms', '600000']);
  kafka = new Kafka({ clientId: 'test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
}, 600_000);
afterAll(async () => {
  await platform?.stop();
  await broker?.destroy();
});

async function count(table: string, service: string): Promise<number> {
  const [row] = await platform.store!.rows<{ n: string }>(
    sql`SELECT count() AS n FROM otel.${unsafeRaw(table)} WHERE ServiceName = ${param('String', service)}`,
  );
  return Number(row!.n);
}

async function spanCount(service: string): Promise<number> {
  const [row] = await platform.store!.rows<{ n: string; ids: string }>(
    sql`SELECT count() AS n, uniqExact(SpanId) AS ids FROM otel.otel_traces WHERE ServiceName = ${param('String', service)}`,
  );
  expect(row!.ids).toBe(row!.n); // no span stored twice
  return Number(row!.n);
}

function spans(service: string, exporter: SpanExporter, traces: number, perTrace: number): { provider: TracerProvider; traceIds: string[] } {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new BatchSpanProcessor({ exporter, maxExportBatchSize: 64, scheduledDelayMillis: 50 })],
  });
  const tracer = provider.getTracer('kafka-test');
  const traceIds: string[] = [];
  for (let t = 0; t < traces; t++) {
    const root = tracer.startSpan(`root-${t}`);
    traceIds.push(root.spanContext().traceId);
    for (let c = 1; c < perTrace; c++) tracer.startSpan(`child-${c}`, {}, trace.setSpan(context.active(), root)).end();
    root.end();
  }
  return { provider, traceIds };
}

describe('OTLP through Kafka', () => {
  it('stores exactly what the SDK exporters sent, per signal, and trace by id works', async () => {
    const exporters: [string, SpanExporter][] = [
      ['kafka-json', new JsonTraceExporter({ url: `${platform.otlpHttpUrl}/v1/traces` })],
      ['kafka-proto', new ProtoTraceExporter({ url: `${platform.otlpHttpUrl}/v1/traces` })],
      ['kafka-grpc', new GrpcTraceExporter({ url: platform.grpcUrl })],
    ];
    const all: { service: string; traceIds: string[] }[] = [];
    for (const [service, exporter] of exporters) {
      const { provider, traceIds } = spans(service, exporter, 40, 5);
      await provider.forceFlush();
      await provider.shutdown();
      all.push({ service, traceIds });
    }
    const logs = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': 'kafka-logs' }),
      processors: [new SimpleLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${platform.otlpHttpUrl}/v1/logs` }) })],
    });
    for (let i = 0; i < 25; i++) logs.getLogger('l').emit({ body: `log line ${i}`, severityNumber: 9, severityText: 'INFO' });
    await logs.forceFlush();
    await logs.shutdown();
    const reader = new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter({ url: `${platform.otlpHttpUrl}/v1/metrics`, temporalityPreference: AggregationTemporality.CUMULATIVE }),
      exportIntervalMillis: 1_000_000,
    });
    const meters = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'kafka-metrics' }), readers: [reader] });
    const counter = meters.getMeter('m').createCounter('kafka_test_requests');
    for (const route of ['/a', '/b', '/c']) counter.add(2, { route });
    meters.getMeter('m').createHistogram('kafka_test_latency').record(12, { route: '/a' });
    // One export: shutdown() would collect and export every series once more.
    await reader.forceFlush();

    // Exporters got their success after Kafka acknowledged; the writer lands the rows shortly after.
    await eventually(async () => {
      for (const { service } of all) expect(await spanCount(service)).toBe(200);
      expect(await count('otel_logs', 'kafka-logs')).toBe(25);
      expect(await count('otel_metrics_sum', 'kafka-metrics')).toBe(3);
      expect(await count('otel_metrics_histogram', 'kafka-metrics')).toBe(1);
    });
    for (const { traceIds } of all) {
      const { status, body } = await getJson(`${platform.apiUrl}/api/v1/traces/${traceIds[7]}`);
      expect(status).toBe(200);
      expect(body.spans).toHaveLength(5);
    }
    const logsApi = await getJson(`${platform.apiUrl}/api/v1/logs?service=kafka-logs&limit=100`);
    expect(logsApi.body.logs ?? logsApi.body.records ?? logsApi.body.items).toHaveLength(25);
  });

  it('consumes otlp_proto bytes from the official serializer written straight to the topic', async () => {
    const exporter = new InMemorySpanExporter();
    const tp = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'kafka-interop' }), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    for (let i = 0; i < 10; i++) tp.getTracer('interop').startSpan(`op-${i}`).end();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'otlp_spans', acks: -1, messages: [{ value: Buffer.from(ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!) }] });
    await producer.disconnect();
    await eventually(async () => expect(await spanCount('kafka-interop')).toBe(10));
  });

  it('dead-letters an undecodable message with its error and bytes, and the partition moves on', async () => {
    const poison = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]);
    const exporter = new InMemorySpanExporter();
    const tp = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'kafka-after-poison' }), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    tp.getTracer('t').startSpan('after').end();
    const good = Buffer.from(ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'otlp_spans', acks: -1, messages: [{ partition: 1, value: poison }, { partition: 1, value: good }] });
    await producer.disconnect();
    await eventually(async () => expect(await spanCount('kafka-after-poison')).toBe(1));

    const consumer = kafka.consumer({ groupId: `dlq-reader-${Date.now()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: 'otlp_dlq', fromBeginning: true });
    const dead = await new Promise<{ value: Buffer | null; headers: Record<string, string> }>((resolve) => {
      void consumer.run({
        eachMessage: ({ message }) => {
          const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
          resolve({ value: message.value, headers });
          return Promise.resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(dead.value).toEqual(poison);
    expect(dead.headers).toMatchObject({ 'crowsnest.source.topic': 'otlp_spans', 'crowsnest.source.partition': '1' });
    expect(dead.headers['crowsnest.error']).toMatch(/truncated|invalid|length/i);
    const metrics = await (await fetch(`${platform.apiUrl}/metrics`)).text();
    expect(metrics).toMatch(/crowsnest_kafka_dlq_messages_total\{topic="otlp_spans"\} 1/);
  });

  it('reports lag per partition, produce/consume totals and DLQ count on /api/v1/pipeline and /metrics', async () => {
    const snapshot = await eventually(async () => {
      const { status, body } = await getJson(`${platform.apiUrl}/api/v1/pipeline`);
      expect(status).toBe(200);
      expect(body.transport).toBe('kafka');
      const spansTopic = body.topics.find((t: any) => t.topic === 'otlp_spans');
      expect(spansTopic.partitions).toHaveLength(3);
      expect(spansTopic.lag).toBe(0);
      expect(body.totals.deadLettered).toBe(1);
      return body;
    }, 30_000, 500);
    expect(snapshot.totals.produced).toBeGreaterThan(0);
    expect(snapshot.totals.consumed).toBeGreaterThanOrEqual(snapshot.totals.produced);
    const metrics = await (await fetch(`${platform.apiUrl}/metrics`)).text();
    expect(metrics).toMatch(/crowsnest_kafka_consumer_lag\{topic="otlp_spans",partition="0"\} 0/);
    expect(metrics).toMatch(/crowsnest_kafka_produced_messages_total\{topic="otlp_spans"\} \d+/);
  });

  it('reads produce and commit rates from Kafka offsets, so any process reports the whole pipeline', async () => {
    // A topic and group of its own: a monitor that runs no producer or writer still sees both sides move.
    const topic = 'lag_rates_test';
    const groupId = 'lag-rates-test';
    const admin = kafka.admin();
    await admin.connect();
    const producer = kafka.producer();
    await producer.connect();
    const monitor = new LagMonitor(kafka, groupId, { bySignal: { traces: topic, logs: topic, metrics: topic }, dlq: 'unused' }, createKafkaMetrics(createMetrics()), silentLogger());
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true });
      const rates = (s: Awaited<ReturnType<LagMonitor['poll']>>) => s.topics.find((t) => t.topic === topic)!;
      const first = await monitor.poll();
      expect(rates(first).producedPerSecond).toBeNull();
      await producer.send({ topic, messages: Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
      const second = await monitor.poll();
      const seconds = (a: typeof first, b: typeof first) => (Date.parse(b.updatedAt!) - Date.parse(a.updatedAt!)) / 1000;
      // Both polls' times are in the snapshots, so the rate must account for exactly the 50 messages.
      expect(rates(second).producedPerSecond! * seconds(first, second)).toBeCloseTo(50, 6);
      expect(rates(second).committedPerSecond).toBe(0);
      expect(rates(second).lag).toBe(50);
      const ends = await admin.fetchTopicOffsets(topic);
      await admin.setOffsets({ groupId, topic, partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })) });
      const third = await monitor.poll();
      expect(rates(third).committedPerSecond! * seconds(second, third)).toBeCloseTo(50, 6);
      expect(rates(third).producedPerSecond).toBe(0);
      expect(rates(third).lag).toBe(0);
    } finally {
      await monitor.close();
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });

  it('answers a request Kafka refuses with an error and no retry, while the requests sent with it are stored', async () => {
    const admin = kafka.admin();
    await admin.connect();
    const maxBytes = (value: string) =>
      admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'otlp_spans', configEntries: [{ name: 'max.message.bytes', value }] }] });
    try {
      await maxBytes('65536');
      const request = (service: string, spanCount: number, attributes: Record<string, string> = {}) => {
        const exporter = new InMemorySpanExporter();
        const tp = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': service }), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
        for (let i = 0; i < spanCount; i++) tp.getTracer('t').startSpan(`op-${i}`, { attributes }).end();
        return exporter.getFinishedSpans();
      };
      const post = (body: Uint8Array, type: string) =>
        fetch(`${platform.otlpHttpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': type }, body }).then(async (r) => ({ status: r.status, text: await r.text() }));
      // Random bytes do not compress: even gzipped, this one span is over the topic's 64 KiB record-batch limit.
      const refused = JsonTraceSerializer.serializeRequest(request('kafka-refused', 1, { blob: randomBytes(150_000).toString('base64') }))!;
      // With the broker frozen, one request takes the gateway's produce call and the next 13 queue; thawed, those
      // 13 go out in one call, which Kafka refuses for the one request.
      const queued = async () => Number(/crowsnest_kafka_produce_queue_requests (\d+)/.exec(await (await fetch(`${platform.apiUrl}/metrics`)).text())?.[1]);
      const calls = async () => Number(/crowsnest_kafka_produce_calls_total (\d+)/.exec(await (await fetch(`${platform.apiUrl}/metrics`)).text())?.[1]);
      const callsBefore = await calls();
      broker.pause();
      let first: Promise<{ status: number }[]>;
      let sending: Promise<{ status: number; text: string }[]>;
      try {
        first = Promise.all([post(ProtobufTraceSerializer.serializeRequest(request('kafka-shared-call', 50))!, 'application/x-protobuf')]);
        await eventually(async () => expect(await queued()).toBe(0), 10_000, 50);
        sending = Promise.all([
          ...Array.from({ length: 12 }, () => post(ProtobufTraceSerializer.serializeRequest(request('kafka-shared-call', 50))!, 'application/x-protobuf')),
          post(refused, 'application/json'),
        ]);
        await eventually(async () => expect(await queued()).toBe(13), 10_000, 50);
      } finally {
        broker.resume();
      }
      expect((await first).map((r) => r.status)).toEqual([200]);
      const sent = await sending;
      expect(sent.slice(0, 12).map((r) => r.status)).toEqual(Array(12).fill(200));
      // The first call, one combined call, refused, then each of its 13 requests alone.
      expect((await calls()) - callsBefore).toBe(15);
      // 500, not 503: Kafka will refuse these records every time, so the exporter must not retry them.
      expect(sent[12]!.status).toBe(500);
      expect(sent[12]!.text).toMatch(/Kafka refused the request/);
      // Every accepted span is stored. Records of the refused call that Kafka had stored for other partitions were
      // sent again with their request, so some spans may be stored twice: at-least-once, counted by id here.
      const stored = async (service: string) => {
        const [row] = await platform.store!.rows<{ ids: string }>(sql`SELECT uniqExact(SpanId) AS ids FROM otel.otel_traces WHERE ServiceName = ${param('String', service)}`);
        return Number(row!.ids);
      };
      await eventually(async () => expect(await stored('kafka-shared-call')).toBe(650));
      expect(await stored('kafka-refused')).toBe(0);
    } finally {
      await maxBytes('1048588');
      await admin.disconnect();
    }
  });
});
