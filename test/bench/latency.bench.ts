/**
 * OTLP request latency at a steady load, the figure an SDK exporter lives by (it sends one batch at a time, so a
 * slow answer is a full queue and dropped spans): 512-span protobuf requests at 10,000 spans/s for 30 s, sent on a
 * fixed schedule (open loop: a slow answer does not delay the next request, so stalls are not hidden), latency from
 * send to answer.
 *
 * 1. `crowsnest start` (embedded: answered once the request is fsynced to the write-ahead log), beside the WAL's
 *    group commit alone: the same payloads appended at the same rate to a WriteAheadLog in the same file system,
 *    append to durable. Target: p99 ≤ 20 ms. Also the receivers alone (gateway-floor.ts: the same HTTP server and
 *    validation answering with no transport), so a reader sees which part of the latency is the log's.
 * 2. `crowsnest gateway` with Kafka (answered on the brokers' acks = all), against a broker from deploy/local/kafka.sh
 *    on this machine, beside the same requests' produce alone (kafkajs, acks = all, gzip): how much the gateway adds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { WriteAheadLog } from '../../ingest/pipeline/wal/log.ts';
import { freePort, startTestBroker } from '../support/kafka.ts';
import { buildBodies, spawnCrowsnest } from './ingest.bench.ts';
import type { BenchResult } from './result.ts';

const SPANS_PER_REQUEST = 512;
const SPANS_PER_SECOND = 10_000;
const SECONDS = 30;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Calls `send` on a fixed schedule for SECONDS and returns each call's latency in ms. */
async function steady(send: (i: number) => Promise<void>): Promise<number[]> {
  const interval = (1000 * SPANS_PER_REQUEST) / SPANS_PER_SECOND;
  const total = Math.floor((SECONDS * 1000) / interval);
  const latencies: number[] = [];
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const t0 = performance.now();
    inFlight.push(send(i).then(() => void latencies.push(performance.now() - t0)));
  }
  await Promise.all(inFlight);
  return latencies;
}

// node:http with keep-alive, as the OTel JS SDK's OTLP/HTTP exporters send (fetch cost the client ~1 ms more per request).
const agent = new Agent({ keepAlive: true });

function post(url: string, body: Uint8Array): Promise<void> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((done, fail) => {
    const req = request(
      { host: hostname, port, path: pathname, method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.byteLength } },
      (res) => {
        res.resume();
        res.once('end', () => (res.statusCode === 200 ? done() : fail(new Error(`OTLP answered ${res.statusCode}`))));
      },
    );
    req.once('error', fail);
    req.end(body);
  });
}

/** The receivers alone (gateway-floor.ts), answering with no transport: the HTTP and validation share of the latency. */
async function receiversAlone(bodies: Uint8Array[]): Promise<number[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'gateway-floor.ts'), '0', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line = await new Promise<string>((done, fail) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) done(out.split('\n')[0]!);
      });
      child.once('exit', (code) => fail(new Error(`gateway-floor exited with ${code}`)));
    });
    const port = line.split(' ')[1];
    return await steady((i) => post(`http://127.0.0.1:${port}/v1/traces`, bodies[i % bodies.length]!));
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

function figures(name: string, latencies: number[], reference: number[], note: string): BenchResult[] {
  return [50, 99].map((p) => {
    const value = percentile(latencies, p);
    const ref = percentile(reference, p);
    return { name: `${name}.p${p}`, value, unit: 'ms', reference: ref, ratio: value / ref, note: `${note}; ${latencies.length} requests` };
  });
}

async function embedded(bodies: Uint8Array[]): Promise<BenchResult[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'crowsnest-bench-latency-'));
  const walDir = mkdtempSync(join(tmpdir(), 'crowsnest-bench-wal-'));
  try {
    const proc = await spawnCrowsnest('start', ['--data-dir', dataDir], { http: await freePort(), otlpHttp: await freePort(), otlpGrpc: await freePort() });
    let latencies: number[];
    try {
      latencies = await steady((i) => post(`${proc.otlpUrl}/v1/traces`, bodies[i % bodies.length]!));
    } finally {
      await proc.stop();
    }
    const wal = WriteAheadLog.open({ dir: walDir, maxBytes: 4 * 1024 ** 3 });
    let syncs: number[];
    try {
      syncs = await steady(async (i) => {
        const r = wal.tryAppend('traces', bodies[i % bodies.length]!);
        if (!r.ok) throw new Error(r.message);
        await r.durable;
      });
    } finally {
      await wal.close();
    }
    const receivers = await receiversAlone(bodies);
    const p99 = percentile(latencies, 99);
    return [
      ...figures(
        'latency.otlp_http_embedded',
        latencies,
        syncs,
        `crowsnest start, 512-span OTLP/HTTP protobuf requests at 10k spans/s for 30 s, send to answer (node:http keep-alive); reference: the WAL's append-to-durable (group commit, fdatasync) alone at the same rate; target p99 ≤ 20 ms (${p99 <= 20 ? 'met' : 'not met'})`,
      ),
      ...figures(
        'latency.otlp_http_receivers_alone',
        receivers,
        latencies,
        'the same requests to the receivers alone (gateway-floor.ts: same HTTP server and validation, no transport); reference: crowsnest start above, so the ratio is the share of its latency that is not the log',
      ),
    ];
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(walDir, { recursive: true, force: true });
  }
}

async function throughKafka(bodies: Uint8Array[]): Promise<BenchResult[]> {
  const broker = await startTestBroker();
  try {
    const topic = 'bench_latency_spans';
    const gateway = await spawnCrowsnest('gateway', ['--kafka-brokers', broker.bootstrap, '--kafka-topic-spans', topic, '--kafka-partitions', '6'], {
      http: await freePort(),
      otlpHttp: await freePort(),
      otlpGrpc: await freePort(),
    });
    let latencies: number[];
    try {
      latencies = await steady((i) => post(`${gateway.otlpUrl}/v1/traces`, bodies[i % bodies.length]!));
    } finally {
      await gateway.stop();
    }
    const kafka = new Kafka({ clientId: 'bench-latency', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    let produces: number[];
    try {
      produces = await steady(async (i) => {
        await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages: [{ value: Buffer.from(bodies[i % bodies.length]!) }] });
      });
    } finally {
      await producer.disconnect();
    }
    return figures(
      'latency.otlp_http_kafka',
      latencies,
      produces,
      'crowsnest gateway → Kafka (6 partitions, acks = all, gzip, one message per trace id), same requests and rate; reference: one kafkajs produce of the request (acks = all, gzip) at the same rate',
    );
  } finally {
    await broker.destroy();
  }
}

export async function run(): Promise<BenchResult[]> {
  const bodies = buildBodies(SPANS_PER_REQUEST);
  try {
    return [...(await embedded(bodies)), ...(await throughKafka(bodies))];
  } finally {
    agent.destroy();
  }
}
