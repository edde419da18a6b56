/**
 * The agent's metrics path end to end, with real peers: Debian's prometheus-node-exporter and a Prometheus server
 * are scraped by the agent's MetricsSource, whose OTLP batches go through the real DiskQueue to the real platform
 * (embedded chDB); the series are then found, with their types, through the metrics API.
 *
 * `StandInForwarderSink` stands in for the agent's forwarder (built by the agent-logs work in parallel): it POSTs
 * each batch to the platform's OTLP/HTTP endpoint as protobuf and retries until the gateway answers 2xx, which is
 * the part of the forwarder's contract (agents/core/contracts.ts `Sink`) this path relies on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '#core/log.ts';
import type { Batch, Settled, Sink } from '../../agents/core/contracts.ts';
import { createMetricsSource, type MetricsSource } from '../../agents/metrics/scrape.ts';
import { DiskQueue } from '../../agents/queue/disk-queue.ts';
import { eventually } from '../support/eventually.ts';
import { type TestPlatform, apiOk, startTestPlatform } from '../support/platform.ts';
import { type PromProcess, startNodeExporter, startPrometheus } from '../support/prometheus.ts';

/** Stands in for the agent's forwarder: OTLP/HTTP protobuf to the gateway, retried until acknowledged. */
class StandInForwarderSink implements Sink {
  healthy = true;
  sent = 0;
  constructor(private readonly url: string) {}
  async send(batch: Batch, signal?: AbortSignal): Promise<Settled> {
    for (;;) {
      if (signal?.aborted) throw new Error('aborted');
      try {
        const res = await fetch(`${this.url}/v1/${batch.signal}`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: batch.body, ...(signal ? { signal } : {}) });
        await res.arrayBuffer();
        if (res.ok) {
          this.healthy = true;
          this.sent += batch.items;
          return { ok: true };
        }
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) return { ok: false, permanent: true, status: res.status, reason: res.statusText };
      } catch (e) {
        if (signal?.aborted) throw e;
      }
      this.healthy = false;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

let platform: TestPlatform;
let nodeExporter: PromProcess;
let prometheus: PromProcess;
let queue: DiskQueue;
let source: MetricsSource;
let queueDir: string;

type Json = Record<string, any>;
const api = (path: string, params: Record<string, string> = {}) => apiOk<Json>(platform.apiUrl, path, params);

beforeAll(async () => {
  platform = await startTestPlatform();
  nodeExporter = await startNodeExporter();
  prometheus = await startPrometheus(`
global:
  scrape_interval: 5s
scrape_configs:
  - job_name: self
    static_configs:
      - targets: ['127.0.0.1:$PORT']
`);
  queueDir = mkdtempSync(join(tmpdir(), 'crowsnest-agent-queue-'));
  const registry = new Registry();
  queue = await DiskQueue.open({ dir: queueDir, sink: new StandInForwarderSink(platform.otlpHttpUrl), log: silentLogger(), registry });
  queue.start();
  source = createMetricsSource({
    queue,
    log: silentLogger(),
    registry,
    staticTargets: [`node=${nodeExporter.url}/metrics`, `prometheus=${prometheus.url}/metrics`, `broken=http://127.0.0.1:1/metrics`],
    intervalMs: 1000,
    timeoutMs: 900,
  });
  source.start();
}, 180_000);

afterAll(async () => {
  await source?.stop();
  await queue?.close();
  await nodeExporter?.stop();
  await prometheus?.stop();
  await platform?.stop();
  if (queueDir) rmSync(queueDir, { recursive: true, force: true });
});

describe('agent metrics against real exporters', () => {
  it('stores node-exporter and Prometheus series with their Prometheus types', async () => {
    const want: Record<string, { type: string; monotonic?: boolean }> = {
      node_cpu_seconds_total: { type: 'sum', monotonic: true },
      node_memory_MemTotal_bytes: { type: 'gauge' },
      node_exporter_build_info: { type: 'gauge' },
      prometheus_http_request_duration_seconds: { type: 'histogram' },
      go_gc_duration_seconds: { type: 'summary' },
      prometheus_tsdb_head_series: { type: 'gauge' },
      up: { type: 'gauge' },
      scrape_duration_seconds: { type: 'gauge' },
    };
    await eventually(
      async () => {
        await platform.inserted();
        const { metrics } = await api('/api/v1/metrics', { limit: '5000' });
        const byName = new Map((metrics as Json[]).map((m) => [m.name as string, m]));
        for (const [name, w] of Object.entries(want)) {
          const m = byName.get(name);
          expect(m, `${name} in the catalogue`).toBeDefined();
          expect(m!.type, name).toBe(w.type);
          if (w.monotonic !== undefined) expect(m!.monotonic, name).toBe(w.monotonic);
          // OTLP summaries carry no temporality.
          if (w.type === 'sum' || w.type === 'histogram') expect(m!.temporality, name).toBe('cumulative');
        }
      },
      90_000,
      1000,
    );
  });

  it('puts the target on the resource and reports up per target, 0 for the one that refuses connections', async () => {
    await eventually(
      async () => {
        await platform.inserted();
        const { points } = await api('/api/v1/metrics/points', { name: 'up', limit: '10000' });
        const byService = new Map<string, number>();
        for (const p of points as Json[]) byService.set(p.serviceName as string, p.value as number);
        expect(Object.fromEntries(byService)).toMatchObject({ node: 1, prometheus: 1, broken: 0 });
        const node = (points as Json[]).find((p) => p.serviceName === 'node')!;
        expect(node.resourceAttributes).toMatchObject({ 'service.instance.id': `127.0.0.1:${nodeExporter.port}`, 'server.port': String(nodeExporter.port), 'url.scheme': 'http' });
      },
      60_000,
      1000,
    );
  });

  it('answers series queries: a counter rate per CPU mode, histogram and summary points with their buckets and quantiles', async () => {
    await eventually(
      async () => {
        await platform.inserted();
        const q = await api('/api/v1/metrics/query', { name: 'node_cpu_seconds_total', filter: 'ServiceName=node', groupBy: 'mode', start: 'now-5m' });
        expect(q.type).toBe('sum');
        const modes = (q.series as Json[]).map((s) => s.labels.mode as string);
        expect(modes).toEqual(expect.arrayContaining(['idle', 'user', 'system']));
        expect((q.series as Json[]).some((s) => (s.points as [number, number][]).length > 0)).toBe(true);

        const h = await api('/api/v1/metrics/points', { name: 'prometheus_http_request_duration_seconds', filter: 'ServiceName=prometheus', limit: '50' });
        const hp = (h.points as Json[])[0]!;
        expect(hp.explicitBounds.length).toBeGreaterThan(3);
        expect(hp.bucketCounts).toHaveLength(hp.explicitBounds.length + 1);
        expect(BigInt(hp.startTime)).toBeLessThanOrEqual(BigInt(hp.time));

        const s = await api('/api/v1/metrics/points', { name: 'go_gc_duration_seconds', filter: 'ServiceName=node', limit: '50' });
        const sp = (s.points as Json[])[0]!;
        expect((sp.quantiles as Json[]).map((x) => x.quantile)).toEqual([0, 0.25, 0.5, 0.75, 1]);
      },
      60_000,
      1000,
    );
  });

  it('keeps a counter series on one start time across scrapes (no fake resets)', async () => {
    await eventually(
      async () => {
        await platform.inserted();
        const { points } = await api('/api/v1/metrics/points', { name: 'node_cpu_seconds_total', filter: 'ServiceName=node', limit: '10000' });
        const one = (points as Json[]).filter((p) => p.attributes.cpu === '0' && p.attributes.mode === 'idle');
        expect(one.length).toBeGreaterThanOrEqual(3);
        expect(new Set(one.map((p) => p.startTime)).size).toBe(1);
      },
      60_000,
      1000,
    );
  });
});
