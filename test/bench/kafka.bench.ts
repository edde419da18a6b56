/**
 * Kafka benchmark, against the real broker from deploy/local/kafka.sh:
 * 1. spans/s end to end (first request to last row written) through Kafka, beside the all-in-one path measured
 *    in the same run with the same requests. Target: ≥ 60 % of the all-in-one rate. The Kafka path runs as it is
 *    deployed: `crowsnest gateway` and `crowsnest writer` as two processes (the writer also serves queries, as
 *    it must with embedded chDB), the broker a third. The all-in-one path is `crowsnest start` (write-ahead log, no Kafka). Runs alternate
 *    between the two (all-in-one, Kafka, all-in-one, …) so that a slow spell of the shared host weighs on both
 *    medians alike.
 * 2. The time to drain the lag after a 60 s writer outage at a steady 5k spans/s: gateway and writer run as
 *    separate processes; the writer is stopped for 60 s while the load continues, then restarted; drained means
 *    the group's lag (read from Kafka, every 250 ms) is back to its steady-state level.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { freePort, startTestBroker } from '../support/kafka.ts';
import { type Deployment, type IngestRun, SPANS_PER_REQUEST, allInOne, buildBodies, measureIngest, spawnCrowsnest, spread, summarize } from './ingest.bench.ts';
import type { BenchResult } from './result.ts';

async function groupLag(kafka: Kafka, topic: string, groupId: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return ends.reduce((sum, e) => {
      const c = committed?.partitions.find((p) => p.partition === e.partition)?.offset ?? '-1';
      return sum + Number(BigInt(e.high) - (BigInt(c) >= 0n ? BigInt(c) : BigInt(e.low)));
    }, 0);
  } finally {
    await admin.disconnect();
  }
}

/** Gateway and writer as separate processes, on topics and a group of their own (`run` keeps runs apart). */
async function gatewayAndWriter(bootstrap: string, run: number, dataDir: string): Promise<Deployment> {
  const args = ['--kafka-brokers', bootstrap, '--kafka-partitions', '6', '--kafka-topic-spans', `bench_spans_${run}`, '--kafka-group-id', `bench-writer-${run}`];
  const gateway = await spawnCrowsnest('gateway', args, { http: await freePort(), otlpHttp: await freePort(), otlpGrpc: await freePort() });
  try {
    const writer = await spawnCrowsnest('writer', [...args, '--data-dir', dataDir], { http: await freePort() });
    return {
      otlpUrl: gateway.otlpUrl,
      apiUrl: writer.apiUrl,
      pids: [gateway.child.pid!, writer.child.pid!],
      // The gateway first: the writer then flushes and commits what it has.
      stop: async (signal) => {
        await gateway.stop(signal);
        await writer.stop(signal);
      },
    };
  } catch (e) {
    await gateway.stop('SIGKILL');
    throw e;
  }
}

export interface KafkaBenchOptions {
  /** Runs of each path. @default 5 */
  runs?: number;
  totalSpans?: number;
  outageSeconds?: number;
  spansPerSecond?: number;
}

export async function run(opts: KafkaBenchOptions = {}): Promise<BenchResult[]> {
  const broker = await startTestBroker();
  try {
    const totalSpans = opts.totalSpans ?? 500_000;
    const inProcessRuns: IngestRun[] = [];
    const kafkaRuns: IngestRun[] = [];
    for (let i = 0; i < (opts.runs ?? 5); i++) {
      for (const [runs, deploy] of [
        [inProcessRuns, allInOne],
        [kafkaRuns, (dir: string) => gatewayAndWriter(broker.bootstrap, i, dir)],
      ] as const) {
        const m = await measureIngest({ totalSpans, deploy });
        rmSync(m.dataDir, { recursive: true, force: true });
        runs.push(m);
      }
    }
    const inProcess = summarize(inProcessRuns);
    const viaKafka = summarize(kafkaRuns);

    const drain = await outageDrain(broker.bootstrap, opts.outageSeconds ?? 60, opts.spansPerSecond ?? 5000);
    return [
      {
        name: 'kafka.otlp_http_protobuf.traces.e2e',
        value: Math.round(viaKafka.rate),
        unit: 'spans/s',
        reference: Math.round(inProcess.rate),
        ratio: viaKafka.rate / inProcess.rate,
        note: `medians of ${viaKafka.rates.length} alternating runs of ${totalSpans} spans each way (Kafka ${spread(viaKafka.rates)}; all-in-one ${spread(inProcess.rates)} spans/s); gateway process → Kafka (6 partitions, gzip, acks=all) → writer process (chDB); reference: the all-in-one path (crowsnest start, write-ahead log) in the same run; target ratio ≥ 0.6`,
      },
      { name: 'kafka.peak_rss', value: Math.round(viaKafka.rssMiB), unit: 'MiB', reference: Math.round(inProcess.rssMiB), ratio: viaKafka.rssMiB / inProcess.rssMiB, note: 'highest sum of the gateway\'s and writer\'s VmHWM over the Kafka runs; reference: the highest VmHWM of crowsnest start' },
      {
        name: 'kafka.drain_after_writer_outage',
        value: Math.round(drain.seconds * 10) / 10,
        unit: 's',
        reference: drain.outageSeconds,
        ratio: drain.seconds / drain.outageSeconds,
        note: `writer stopped ${drain.outageSeconds} s at a steady ${drain.rate} spans/s (peak lag ${drain.peakLag} messages); time from the writer's restart until the lag is back to its steady level (${drain.steadyLag}); reference: the outage`,
      },
    ];
  } finally {
    await broker.destroy();
  }
}

async function outageDrain(bootstrap: string, outageSeconds: number, spansPerSecond: number) {
  const kafka = new Kafka({ clientId: 'bench', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const args = ['--kafka-brokers', bootstrap, '--kafka-partitions', '6', '--kafka-topic-spans', 'drain_spans', '--kafka-group-id', 'drain-writer'];
  const dataDir = mkdtempSync(join(tmpdir(), 'crowsnest-bench-drain-'));
  const gateway = await spawnCrowsnest('gateway', args, { http: await freePort(), otlpHttp: await freePort(), otlpGrpc: await freePort() });
  const writerPort = await freePort();
  let writer = await spawnCrowsnest('writer', [...args, '--data-dir', dataDir], { http: writerPort });
  const bodies = buildBodies();
  const perRequest = SPANS_PER_REQUEST;
  const intervalMs = (1000 * perRequest) / spansPerSecond;
  let sent = 0;
  let stopLoad = false;
  let failures = 0;
  // A steady, paced load: one request every intervalMs, whatever the writer does.
  const load = (async () => {
    const start = performance.now();
    while (!stopLoad) {
      const due = start + sent * intervalMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const body = bodies[sent++ % bodies.length]!;
      void fetch(`${gateway.otlpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body })
        .then(async (res) => {
          await res.arrayBuffer();
          if (res.status !== 200) failures++;
        })
        .catch(() => failures++);
    }
  })();
  try {
    const sampleLag = async (seconds: number) => {
      let max = 0;
      const until = Date.now() + seconds * 1000;
      while (Date.now() < until) {
        max = Math.max(max, await groupLag(kafka, 'drain_spans', 'drain-writer'));
        await new Promise((r) => setTimeout(r, 250));
      }
      return max;
    };
    await sampleLag(10); // warm up
    const steadyLag = Math.max(await sampleLag(10), 1);
    await writer.stop();
    await new Promise((r) => setTimeout(r, outageSeconds * 1000));
    const peakLag = await groupLag(kafka, 'drain_spans', 'drain-writer');
    const restarted = performance.now();
    writer = await spawnCrowsnest('writer', [...args, '--data-dir', dataDir], { http: writerPort });
    while ((await groupLag(kafka, 'drain_spans', 'drain-writer')) > steadyLag) await new Promise((r) => setTimeout(r, 250));
    const seconds = (performance.now() - restarted) / 1000;
    if (failures > 0) throw new Error(`${failures} requests failed during the outage run`);
    return { seconds, outageSeconds, rate: spansPerSecond, steadyLag, peakLag };
  } finally {
    stopLoad = true;
    await load;
    await writer.stop();
    await gateway.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.filename === process.argv[1]) {
  console.table(await run());
}
