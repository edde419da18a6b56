/**
 * The embedded default as an application meets it: the official OTel JS SDK with its default BatchSpanProcessor
 * (queue 2048, batches of 512, one export at a time) exporting OTLP/HTTP protobuf to `crowsnest start`.
 *
 * The SDK drops spans when its queue is full, and its queue drains only as fast as the server answers; so a server
 * that answers after its ClickHouse insert (about a second) made a process emitting more than ~465 spans/s lose
 * spans before they left it. With the write-ahead log the answer comes after an fsync.
 *
 * Spans are grouped into traces of `TRACE_SPANS`, so the test reads them back by trace id and counts every span id.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DiagLogger, DiagLogLevel, ROOT_CONTEXT, TraceFlags, diag, trace } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, describe, expect, it } from 'vitest';
import type { TraceResponse } from '../../query/contract.ts';
import { type CrowsnestProcess, startCrowsnest } from '../support/crowsnest-process.ts';
import { eventually } from '../support/eventually.ts';
import { freePort } from '../support/kafka.ts';

const dirs: string[] = [];
const processes: CrowsnestProcess[] = [];
afterAll(async () => {
  for (const p of processes) await p.stop().catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const TRACE_SPANS = 1000;

/** What the SDK reported: spans in exports the server acknowledged, spans in failed exports, spans it dropped. */
class Ledger {
  readonly acked = new Set<string>();
  /** Each export: when it started and ended (performance.now()) and its span ids. */
  readonly exports: { start: number; end: number; ids: string[] }[] = [];
  failed = 0;
  dropped = 0;
  readonly latenciesMs: number[] = [];
}

/** The real exporter, watched: which spans each export carried and how it ended. Changes nothing it passes on. */
function watchedExporter(url: string, ledger: Ledger): SpanExporter {
  const inner = new OTLPTraceExporter({ url });
  return {
    export(spans: ReadableSpan[], done: (r: ExportResult) => void) {
      const t0 = performance.now();
      inner.export(spans, (result) => {
        ledger.latenciesMs.push(performance.now() - t0);
        ledger.exports.push({ start: t0, end: performance.now(), ids: spans.map((s) => s.spanContext().spanId) });
        if (result.code === ExportResultCode.SUCCESS) for (const s of spans) ledger.acked.add(s.spanContext().spanId);
        else ledger.failed += spans.length;
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush(),
  };
}

/** Counts the SDK's own dropped-span diagnostics ("Dropped N spans because maxQueueSize reached"). */
function countDrops(ledger: Ledger): void {
  const ignore = () => undefined;
  const logger: DiagLogger = {
    error: ignore,
    info: ignore,
    debug: ignore,
    verbose: ignore,
    warn: (message: string) => {
      const m = /Dropped (\d+) spans/.exec(message);
      if (m) ledger.dropped += Number(m[1]);
    },
  };
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
}

/** An application's SDK as shipped: a BatchSpanProcessor with its defaults, exporting to `otlpPort`, watched. */
function application(service: string, otlpPort: number): { ledger: Ledger; provider: TracerProvider } {
  const ledger = new Ledger();
  countDrops(ledger);
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new BatchSpanProcessor({ exporter: watchedExporter(`http://127.0.0.1:${otlpPort}/v1/traces`, ledger) })],
  });
  return { ledger, provider };
}

/** Emits `rate` spans/s, paced by the clock, in traces of TRACE_SPANS spans; resolves with the trace ids used. */
function emitter(provider: TracerProvider, service: string, rate: number) {
  const tracer = provider.getTracer(service);
  const traces: string[] = [];
  let emitted = 0;
  let timer: NodeJS.Timeout | undefined;
  const start = performance.now();
  const newTrace = () => {
    const traceId = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex');
    traces.push(traceId);
    return trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: 'a'.repeat(16), traceFlags: TraceFlags.SAMPLED, isRemote: true });
  };
  let ctx = newTrace();
  const tick = () => {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    // After a stall of this process (a GC pause, a busy core), catch up at twice the rate, not in one burst: a
    // burst of its own making would overflow the SDK's queue whatever the server does.
    for (let n = Math.min(due - emitted, Math.ceil(rate / 50)); n > 0; n--) {
      if (emitted > 0 && emitted % TRACE_SPANS === 0) ctx = newTrace();
      tracer.startSpan('work', { attributes: { seq: emitted, 'http.route': '/orders/:id' } }, ctx).end();
      emitted++;
    }
  };
  timer = setInterval(tick, 10);
  return {
    traces,
    get emitted() {
      return emitted;
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}

async function spanCounts(apiUrl: string, traces: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const traceId of traces) {
    const r = await fetch(`${apiUrl}/api/v1/traces/${traceId}?limit=50000`);
    if (r.status === 404) continue;
    expect(r.status).toBe(200);
    const body = (await r.json()) as TraceResponse;
    for (const s of body.spans) counts.set(s.spanId, (counts.get(s.spanId) ?? 0) + 1);
  }
  return counts;
}

async function pending(apiUrl: string): Promise<number> {
  const status = (await (await fetch(`${apiUrl}/api/v1/pipeline`)).json()) as { pendingRecords: number };
  return status.pendingRecords;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function platform(dataDir: string, httpPort: number, otlpHttpPort: number): Promise<CrowsnestProcess> {
  const p = await startCrowsnest('start', ['--data-dir', dataDir, '--otlp-http-port', String(otlpHttpPort), '--otlp-grpc-port', '0'], httpPort);
  processes.push(p);
  return p;
}

describe('write-ahead log, as an SDK exporter meets it', () => {
  it('takes 10,000 spans/s for 30 s from an SDK with default settings: every span stored once, none dropped in the SDK', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'crowsnest-wal-e2e-'));
    dirs.push(dataDir);
    const otlp = await freePort();
    const server = await platform(dataDir, await freePort(), otlp);
    const { ledger, provider } = application('steady-10k', otlp);
    const load = emitter(provider, 'steady-10k', 10_000);
    await new Promise((r) => setTimeout(r, 30_000));
    load.stop();
    await provider.forceFlush();
    await provider.shutdown();

    const p50 = percentile(ledger.latenciesMs, 50);
    const p99 = percentile(ledger.latenciesMs, 99);
    console.log(
      `SDK export latency over ${ledger.latenciesMs.length} exports (serialize + request + answer): p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms; ` +
        `${load.emitted} spans emitted, ${ledger.acked.size} acknowledged, ${ledger.dropped} dropped in the SDK, ${ledger.failed} in failed exports`,
    );
    expect(ledger.dropped).toBe(0);
    expect(ledger.failed).toBe(0);
    expect(ledger.acked.size).toBe(load.emitted);

    await eventually(async () => expect(await pending(server.apiUrl)).toBe(0), 120_000, 250);
    const counts = await spanCounts(server.apiUrl, load.traces);
    expect(counts.size).toBe(load.emitted);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    await server.stop();
  }, 240_000);

  it('loses nothing acknowledged and stores nothing twice across a kill -9 mid-stream, a restart and the SDK retrying', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'crowsnest-wal-kill-'));
    dirs.push(dataDir);
    const [http, otlp] = [await freePort(), await freePort()];
    const first = await platform(dataDir, http, otlp);
    const { ledger, provider } = application('killed', otlp);
    const load = emitter(provider, 'killed', 5000);
    await new Promise((r) => setTimeout(r, 4000));
    const ackedBeforeKill = ledger.acked.size;
    const killedAt = performance.now();
    await first.kill(); // mid-stream: requests in flight, a plan half inserted, the checkpoint behind
    await new Promise((r) => setTimeout(r, 1000));
    const second = await platform(dataDir, http, otlp);
    await new Promise((r) => setTimeout(r, 4000));
    load.stop();
    await provider.forceFlush();
    await provider.shutdown();

    await eventually(async () => expect(await pending(second.apiUrl)).toBe(0), 120_000, 250);
    const counts = await spanCounts(second.apiUrl, load.traces);
    const lost = [...ledger.acked].filter((id) => !counts.has(id));
    // A request durable in the log when the process was killed, but unanswered, is sent again by the SDK (it
    // retries ECONNRESET/ECONNREFUSED): the log recognizes the same bytes and must not store it twice.
    const acrossKill = new Set(ledger.exports.filter((e) => e.start < killedAt && e.end > killedAt).flatMap((e) => e.ids));
    const twice = [...counts.entries()].filter(([, n]) => n > 1);
    const unackedStored = [...counts.keys()].filter((id) => !ledger.acked.has(id)).length;
    console.log(
      `kill -9 after ${ackedBeforeKill} acknowledged spans; in all ${load.emitted} emitted, ${ledger.acked.size} acknowledged, ` +
        `${ledger.failed} in failed exports (server down), ${unackedStored} of those stored anyway (durable before the kill, unanswered); ` +
        `${acrossKill.size} spans in exports in flight across the kill (retried by the SDK), ${twice.length} stored twice`,
    );
    expect(ackedBeforeKill).toBeGreaterThan(0);
    expect(ledger.acked.size).toBeGreaterThan(ackedBeforeKill); // the stream went on after the restart
    expect(lost).toEqual([]);
    expect(twice).toEqual([]);
    await second.stop();
  }, 240_000);
});
