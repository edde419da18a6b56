/**
 * Ingest benchmark: OTLP/HTTP protobuf traces, end to end until the rows are queryable, beside the engine-only
 * insert rate of the same rows measured in the same run.
 *
 * 1. `crowsnest start` runs as a child process (embedded chDB, temp data dir), so its peak RSS is its own.
 * 2. Requests built by the official protobuf serializer from real SDK spans are posted with fixed concurrency.
 *    A 200 means the rows were inserted (the receiver acknowledges only after ClickHouse did), and the child's
 *    own counter of written rows is checked against the spans sent.
 * 3. The child stops; this process opens the same data dir and times `INSERT INTO otel_traces SELECT * FROM
 *    otel_traces` of exactly those rows (same table, same materialized view): the engine-only rate.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Span, SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { createStore } from '#storage/client.ts';
import { migrate } from '#storage/migrate.ts';
import { unsafeRaw } from '#storage/sql.ts';
import { silentLogger } from '#core/log.ts';
import { freePort } from '../support/kafka.ts';
import type { BenchResult } from './result.ts';

const ROOT = resolve(import.meta.dirname, '../..');
export const SPANS_PER_REQUEST = 1000;
const DISTINCT_BODIES = 20;

/** Requests of realistic spans: 10 span attributes, 8 resource attributes, one event on every tenth span; traces of ten spans. */
export function buildBodies(spansPerRequest = SPANS_PER_REQUEST): Uint8Array[] {
  const bodies: Uint8Array[] = [];
  for (let b = 0; b < DISTINCT_BODIES; b++) {
    const exporter = new InMemorySpanExporter();
    const tp = new TracerProvider({
      resource: resourceFromAttributes({
        'service.name': `service-${b % 10}`,
        'service.version': '1.4.2',
        'service.namespace': 'shop',
        'deployment.environment.name': 'prod',
        'k8s.namespace.name': 'shop',
        'k8s.pod.name': `service-${b % 10}-7d9f8c-x2x${b}`,
        'k8s.node.name': `node-${b % 3}`,
        'host.name': `node-${b % 3}`,
      }),
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const tracer = tp.getTracer('bench', '1.0.0');
    let root: Span | undefined;
    for (let i = 0; i < spansPerRequest; i++) {
      // Traces of ten spans: a server span and nine children, as an instrumented request would produce.
      const parent = i % 10 === 0 || !root ? undefined : trace.setSpan(context.active(), root);
      const span = tracer.startSpan(`GET /api/items/{id} ${i % 50}`, {
        kind: i % 10 === 0 ? SpanKind.SERVER : SpanKind.CLIENT,
        attributes: {
          'http.request.method': 'GET',
          'http.route': '/api/items/{id}',
          'http.response.status_code': i % 20 === 0 ? 500 : 200,
          'url.path': `/api/items/${i}`,
          'server.address': 'items.shop.svc.cluster.local',
          'server.port': 8080,
          'network.protocol.version': '1.1',
          'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64)',
          'app.cart.items': i % 7,
          'app.feature.flag': i % 2 === 0,
        },
      }, parent);
      if (i % 10 === 0) {
        root?.end();
        root = span;
        span.addEvent('cache.miss', { key: `item:${i}` });
      } else span.end();
      if (i % 20 === 0) span.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream failed' });
    }
    root?.end();
    const body = ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans());
    if (!body) throw new Error('serializer returned nothing');
    bodies.push(body);
  }
  return bodies;
}

export function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (child.exitCode !== null) throw new Error(`crowsnest exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('crowsnest did not become ready');
}

export interface BenchProcess {
  child: ChildProcess;
  apiUrl: string;
  otlpUrl: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** `crowsnest <role>` as a child process on loopback, ready when /readyz says so. */
export async function spawnCrowsnest(role: string, args: string[], ports: { http: number; otlpHttp?: number; otlpGrpc?: number }, nodeArgs: string[] = []): Promise<BenchProcess> {
  const portArgs = ['--http-port', String(ports.http)];
  if (ports.otlpHttp !== undefined) portArgs.push('--otlp-http-port', String(ports.otlpHttp), '--otlp-grpc-port', String(ports.otlpGrpc ?? 0));
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'ingest/cli/crowsnest.mjs'), role, ...portArgs, '--log-level', 'warn', ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  const apiUrl = `http://127.0.0.1:${ports.http}`;
  try {
    await waitReady(`${apiUrl}/readyz`, child);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    child,
    apiUrl,
    otlpUrl: `http://127.0.0.1:${ports.otlpHttp ?? 0}`,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      const force = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(force);
    },
  };
}

/** Posts `requests` protobuf trace requests with fixed concurrency; a 503 is retried, so every span counted was accepted. */
export async function blast(otlpUrl: string, bodies: Uint8Array[], requests: number, concurrency: number): Promise<{ seconds: number; retried: number }> {
  let next = 0;
  let retried = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const body = bodies[next++ % bodies.length]!;
        for (;;) {
          const res = await fetch(`${otlpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
          await res.arrayBuffer();
          if (res.status === 200) break;
          if (res.status !== 503) throw new Error(`ingest answered ${res.status}`);
          retried++;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, retried };
}

export async function writtenRows(apiUrl: string): Promise<number> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const m = /crowsnest_written_rows_total\{table="otel_traces"\} (\d+)/.exec(text);
  return Number(m?.[1] ?? 0);
}

/** Time until the platform's own counter of written spans reaches `expected` (the rows are then queryable). */
export async function waitWritten(apiUrl: string, expected: number, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const written = await writtenRows(apiUrl);
    if (written === expected) return;
    if (written > expected) throw new Error(`wrote ${written} spans, more than the ${expected} sent`);
    if (Date.now() > deadline) throw new Error(`only ${written} of ${expected} spans written`);
    // Each poll is a /metrics scrape, which costs the process being measured: 50 ms keeps that small while
    // adding at most 0.5 % to a 10 s run.
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Engine-only reference: the same rows into the same table structure and materialized view, `INSERT … SELECT`
 * inside ClickHouse. The destination is a fresh database migrated like the platform's, emptied before each run,
 * and the figure is the median of `runs`: single runs varied 2× with background merges.
 */
export async function engineInsertRate(dataDir: string, rows: number, runs = 5): Promise<number> {
  const store = createStore({ dataDir, database: 'otel' });
  try {
    await migrate(store, { database: 'engine_ref', ttlDays: { traces: 30, logs: 30, metrics: 30 } }, silentLogger());
    const rates: number[] = [];
    for (let i = 0; i < runs; i++) {
      await store.command(unsafeRaw('TRUNCATE TABLE engine_ref.otel_traces'));
      await store.command(unsafeRaw('TRUNCATE TABLE engine_ref.otel_traces_trace_id_ts'));
      const t0 = performance.now();
      await store.command(unsafeRaw('INSERT INTO engine_ref.otel_traces SELECT * FROM otel.otel_traces'), { max_insert_threads: '2' });
      rates.push(rows / ((performance.now() - t0) / 1000));
    }
    return median(rates);
  } finally {
    await store.close();
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface IngestBenchOptions {
  totalSpans?: number;
  concurrency?: number;
  /** Runs, each on a fresh data dir; the median rate is reported. @default 5 */
  runs?: number;
  /** What receives the requests and writes the rows. @default `crowsnest start` (all-in-one: the write-ahead log, its writer and the query API) */
  deploy?: (dataDir: string) => Promise<Deployment>;
}

/** The processes under test: where requests go, where written rows are counted, and their PIDs (for RSS). */
export interface Deployment {
  otlpUrl: string;
  apiUrl: string;
  pids: number[];
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** `crowsnest start` on `dataDir`: receivers, write-ahead log, its writer and the query API in one process. */
export async function allInOne(dataDir: string): Promise<Deployment> {
  const proc = await spawnCrowsnest('start', ['--data-dir', dataDir], { http: await freePort(), otlpHttp: await freePort(), otlpGrpc: await freePort() });
  return { otlpUrl: proc.otlpUrl, apiUrl: proc.apiUrl, pids: [proc.child.pid!], stop: (signal) => proc.stop(signal) };
}

export interface IngestRun {
  spans: number;
  rate: number;
  retried: number;
  /** Sum of the processes' peak RSS. */
  rssMiB: number;
  dataDir: string;
}

/** Spans/s end to end (first request to last row written) and peak RSS of one deployment on a fresh data dir. */
export async function measureIngest(opts: IngestBenchOptions = {}): Promise<IngestRun> {
  const totalSpans = opts.totalSpans ?? 1_000_000;
  const requests = Math.ceil(totalSpans / SPANS_PER_REQUEST);
  const bodies = buildBodies();
  const dataDir = mkdtempSync(join(tmpdir(), 'crowsnest-bench-ingest-'));
  const deployment = await (opts.deploy ?? allInOne)(dataDir);
  try {
    const started = performance.now();
    const { retried } = await blast(deployment.otlpUrl, bodies, requests, opts.concurrency ?? 64);
    const spans = requests * SPANS_PER_REQUEST;
    await waitWritten(deployment.apiUrl, spans);
    const rate = spans / ((performance.now() - started) / 1000);
    const rssMiB = deployment.pids.reduce((sum, pid) => sum + peakRssMiB(pid), 0);
    await deployment.stop();
    return { spans, rate, retried, rssMiB, dataDir };
  } finally {
    await deployment.stop('SIGKILL');
  }
}

export interface IngestMeasure {
  spans: number;
  /** Median of the runs. */
  rate: number;
  rates: number[];
  retried: number;
  /** Highest of the runs. */
  rssMiB: number;
  /** The last run's data, kept for a reference measured on the same rows. */
  dataDir: string;
}

/** The median of runs, the runs themselves, and the highest RSS; keeps only the last run's data dir. */
export function summarize(runs: IngestRun[]): IngestMeasure {
  const last = runs.at(-1)!;
  const rates = runs.map((r) => r.rate);
  return {
    spans: last.spans,
    rate: median(rates),
    rates,
    retried: runs.reduce((n, r) => n + r.retried, 0),
    rssMiB: Math.max(...runs.map((r) => r.rssMiB)),
    dataDir: last.dataDir,
  };
}

/**
 * `measureIngest` `runs` times on fresh data dirs: single runs of the same code moved by ±20 % on this machine
 * (background merges, a shared host), so the median is the figure, and the spread is in the note.
 */
export async function measureIngestMedian(opts: IngestBenchOptions = {}): Promise<IngestMeasure> {
  const runs: IngestRun[] = [];
  for (let i = 0; i < (opts.runs ?? 5); i++) {
    const m = await measureIngest(opts);
    if (runs.length > 0) rmSync(runs.at(-1)!.dataDir, { recursive: true, force: true });
    runs.push(m);
  }
  return summarize(runs);
}

/** `12.3k, 13.1k, 12.8k`: the single runs behind a median. */
export const spread = (rates: number[]) => rates.map((r) => `${(r / 1000).toFixed(1)}k`).join(', ');

export async function run(opts: IngestBenchOptions = {}): Promise<BenchResult[]> {
  const m = await measureIngestMedian(opts);
  try {
    const engine = await engineInsertRate(m.dataDir, m.spans);
    return [
      {
        name: 'ingest.otlp_http_protobuf.traces.e2e',
        value: Math.round(m.rate),
        unit: 'spans/s',
        reference: Math.round(engine),
        ratio: m.rate / engine,
        note: `median of ${m.rates.length} runs (${spread(m.rates)} spans/s) of ${m.spans} spans in requests of ${SPANS_PER_REQUEST}, ${opts.concurrency ?? 64} concurrent, ${m.retried} 503s retried; reference: median of 5 INSERT…SELECT of the same rows into a fresh copy of the tables; target ratio ≥ 0.25`,
      },
      { name: 'ingest.otlp_http_protobuf.traces.peak_rss', value: Math.round(m.rssMiB), unit: 'MiB', reference: null, ratio: null, note: 'highest VmHWM of the crowsnest process over the runs above' },
    ];
  } finally {
    rmSync(m.dataDir, { recursive: true, force: true });
  }
}

if (import.meta.filename === process.argv[1]) {
  console.table(await run());
}
