/**
 * The live tail of a query process apart from the writers, as separate `crowsnest` processes over one ClickHouse
 * (the HTTP test double backed by chDB, test/support/clickhouse-http):
 *   - behind Kafka (gateway → Kafka → writer; query with --kafka-brokers): the query process reads the logs topic
 *     through its Kafka tap, in a consumer group of its own (never the writers'), only while someone tails;
 *   - without Kafka (`crowsnest start` writing to the server; query alone): one shared poll of ClickHouse.
 * Either way a tail gets exactly the records the search returns for the same filters. Latency from a record's
 * emit to its arrival is printed, not asserted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClickHouseHttp } from '../../test/support/clickhouse-http/process.ts';
import { startCrowsnest } from '../../test/support/crowsnest-process.ts';
import { eventually } from '../../test/support/eventually.ts';
import { type TestBroker, freePort, startTestBroker } from '../../test/support/kafka.ts';
import type { LogRecord } from '../contract.ts';
import { inOrder, openTail } from './testing/sse-client.ts';

const cleanup: (() => Promise<unknown>)[] = [];
let chUrl: string;
beforeAll(async () => {
  const chDir = mkdtempSync(join(tmpdir(), 'crowsnest-tail-ch-'));
  const ch = await startClickHouseHttp({ dataDir: chDir });
  chUrl = ch.url;
  cleanup.push(() => Promise.resolve(rmSync(chDir, { recursive: true, force: true })), () => ch.stop());
}, 120_000);
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
});

async function emit(otlpHttp: string, service: string, n: number): Promise<void> {
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${otlpHttp}/v1/logs` }), scheduledDelayMillis: 100 })],
  });
  for (let i = 0; i < n; i++) {
    provider.getLogger('apart').emit({ timestamp: Date.now(), body: `${service} line ${i}${i % 3 === 0 ? ' failed' : ''}`, severityNumber: i % 2 ? 17 : 9 });
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 100));
  }
  await provider.shutdown();
}

async function search(apiUrl: string, q: string): Promise<LogRecord[]> {
  const res = await fetch(`${apiUrl}/api/v1/logs?${q}&start=now-1h&end=now&limit=1000`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { logs: LogRecord[] }).logs;
}

const byTime = inOrder;

function latencies(records: { record: LogRecord; at: number }[]): string {
  const ms = records.map((r) => r.at - Number(BigInt(r.record.timeUnixNano) / 1_000_000n)).sort((a, b) => a - b);
  return `p50 ${ms[Math.floor(ms.length / 2)]} ms, max ${ms.at(-1)} ms over ${ms.length} records`;
}

describe('query process apart, behind Kafka', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker();
    cleanup.push(() => broker.destroy());
  }, 600_000);

  it('reads the logs topic through its own consumer group while someone tails, and sends what the search finds', async () => {
    const kafkaArgs = ['--kafka-brokers', broker.bootstrap, '--kafka-partitions', '3', '--kafka-group-id', 'tail-test-writer'];
    const otlpPort = await freePort();
    const gateway = await startCrowsnest('gateway', [...kafkaArgs, '--otlp-http-port', String(otlpPort), '--otlp-grpc-port', String(await freePort())], await freePort());
    cleanup.push(() => gateway.stop());
    const writer = await startCrowsnest('writer', [...kafkaArgs, '--clickhouse-url', chUrl, '--kafka-batch-max-age-ms', '500'], await freePort());
    cleanup.push(() => writer.stop());
    const query = await startCrowsnest('query', [...kafkaArgs, '--clickhouse-url', chUrl], await freePort());
    cleanup.push(() => query.stop());
    const kafka = new Kafka({ clientId: 'tail-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    cleanup.push(() => admin.disconnect());
    const tailGroups = async () => (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.includes('-tail-'));

    expect(await tailGroups()).toEqual([]); // nobody tails: no consumer
    const tail = await openTail(query.apiUrl, 'service=kafka-tail&q=failed');
    const all = await openTail(query.apiUrl, 'service=kafka-tail');
    expect(await tail.ready).toEqual({ source: 'kafka' });
    await all.ready;
    const groups = await tailGroups();
    expect(groups).toHaveLength(1); // one per process, however many viewers
    expect(groups[0]).not.toBe('tail-test-writer');
    const [described] = (await admin.describeGroups(groups)).groups;
    expect(described!.members).toHaveLength(1);

    await emit(`http://127.0.0.1:${otlpPort}`, 'kafka-tail', 30);
    await eventually(() => expect(all.records).toHaveLength(30), 60_000);
    // The writers store what the tail showed: the search (through ClickHouse) finds the same records.
    const failed = await eventually(async () => {
      const found = await search(query.apiUrl, 'service=kafka-tail&q=failed');
      expect(found).toHaveLength(10);
      return found;
    }, 60_000, 250);
    expect(byTime(tail.records.map((r) => r.record))).toEqual(byTime(failed));
    expect(byTime(all.records.map((r) => r.record))).toEqual(byTime(await search(query.apiUrl, 'service=kafka-tail')));
    console.log(`live tail through the Kafka tap (query process apart): emit → delivered ${latencies(all.records)}`);

    // The writers' group never saw the tap: its offsets are the writers' own, and no tail member is in it.
    const offsets = await admin.fetchOffsets({ groupId: groups[0]!, topics: ['otlp_logs'] });
    expect(offsets.flatMap((t) => t.partitions).every((p) => p.offset === '-1')).toBe(true); // never committed
    const [writers] = (await admin.describeGroups(['tail-test-writer'])).groups;
    expect(writers!.members.every((m) => !m.clientId.includes('query'))).toBe(true);

    tail.close();
    all.close();
    // After the last viewer (and the hub's linger) the consumer leaves: an idle query process costs Kafka nothing.
    await eventually(async () => {
      const [g] = (await admin.describeGroups(groups)).groups;
      expect(g!.members).toHaveLength(0);
    }, 60_000, 500);
  }, 300_000);
});

describe('query process apart, without Kafka', () => {
  it('polls ClickHouse once for all its viewers and sends what the search finds', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'crowsnest-tail-start-'));
    cleanup.push(() => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })));
    const otlpPort = await freePort();
    // The writer elsewhere, without Kafka: an all-in-one process writing to the same ClickHouse server.
    const ingest = await startCrowsnest(
      'start',
      ['--clickhouse-url', chUrl, '--data-dir', dataDir, '--otlp-http-port', String(otlpPort), '--otlp-grpc-port', String(await freePort()), '--batch-max-age-ms', '200'],
      await freePort(),
    );
    cleanup.push(() => ingest.stop());
    const query = await startCrowsnest('query', ['--clickhouse-url', chUrl], await freePort());
    cleanup.push(() => query.stop());

    const tails = await Promise.all([openTail(query.apiUrl, 'service=poll-tail'), openTail(query.apiUrl, 'service=poll-tail&severity=error')]);
    expect((await Promise.all(tails.map((t) => t.ready))).map((r) => r.source)).toEqual(['poll', 'poll']);
    await emit(`http://127.0.0.1:${otlpPort}`, 'poll-tail', 30);
    await eventually(() => expect(tails[0].records).toHaveLength(30), 60_000);
    await eventually(() => expect(tails[1].records).toHaveLength(15), 60_000);
    expect(byTime(tails[0].records.map((r) => r.record))).toEqual(byTime(await search(query.apiUrl, 'service=poll-tail')));
    expect(byTime(tails[1].records.map((r) => r.record))).toEqual(byTime(await search(query.apiUrl, 'service=poll-tail&severity=error')));
    console.log(`live tail by polling (query process apart, no Kafka): emit → delivered ${latencies(tails[0].records)}`);
    for (const t of tails) t.close();
  }, 300_000);
});
