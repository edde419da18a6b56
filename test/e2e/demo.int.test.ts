/**
 * `crowsnest start --demo` as a user runs it (a child process, `npm start -- --demo`): once the receivers listen,
 * the simulated shop sends through the OpenTelemetry SDK over real HTTP to the process's own OTLP port, and every
 * surface of the API fills: services with requests and errors, traces crossing services with database and Kafka
 * spans, logs carrying trace and span ids and Kubernetes resource attributes, metrics with a histogram whose p95
 * is computed. The services page in Chromium lists the shop. Then `crowsnest demo` on its own against the same
 * platform, stopped by SIGINT: it flushes and exits 0; bad options exit 2 saying why.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogSearchResponse, MetricCatalogResponse, MetricSeriesResponse, ServicesResponse, TraceResponse, TraceSearchResponse } from '../../query/contract.ts';
import { type TestBrowser, launchChromium } from '../support/chromium.ts';
import { type CrowsnestProcess, startCrowsnest } from '../support/crowsnest-process.ts';
import { eventually } from '../support/eventually.ts';
import { freePort } from '../support/kafka.ts';
import { getJson } from '../support/platform.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'ingest', 'cli', 'crowsnest.mjs');
const SHOP = ['frontend', 'catalog', 'cart', 'checkout', 'payment', 'fulfillment', 'notification'];
/** The demo's data takes up to a minute to show (the first incident starts after 30 s, metrics export every 10 s). */
const WAIT_MS = 240_000;

let dataDir: string;
let otlpPort: number;
let proc: CrowsnestProcess;
let api: string;

beforeAll(async () => {
  // The platform serves ui/dist: build it first if the sources are newer (as `npm start` does).
  execFileSync(process.execPath, [join(ROOT, 'ui', 'scripts', 'ensure-built.mjs')], { stdio: 'inherit' });
  dataDir = mkdtempSync(join(tmpdir(), 'crowsnest-demo-'));
  otlpPort = await freePort();
  proc = await startCrowsnest(
    'start',
    ['--demo', '--demo-rate', '5', '--data-dir', dataDir, '--otlp-http-port', String(otlpPort), '--otlp-grpc-port', '0', '--batch-max-age-ms', '200'],
    await freePort(),
  );
  api = `${proc.apiUrl}/api/v1`;
}, 300_000);

afterAll(async () => {
  await proc?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const range = 'start=now-1h';

async function get<T>(path: string): Promise<T> {
  const { status, body } = await getJson<T>(`${api}${path}`);
  if (status !== 200) throw new Error(`${path}: HTTP ${status} ${JSON.stringify(body)}`);
  return body;
}

describe('crowsnest start --demo', () => {
  it('fills the services table: the whole shop with requests, and errors once an incident has begun', async () => {
    const services = await eventually(
      async () => {
        const { services } = await get<ServicesResponse>(`/services?${range}&limit=100`);
        const names = services.filter((s) => s.requests > 0).map((s) => s.serviceName);
        for (const name of SHOP) if (!names.includes(name)) throw new Error(`no requests of ${name} yet (have ${names.join(', ')})`);
        if (services.reduce((n, s) => n + s.errors, 0) === 0) throw new Error('no errors yet');
        return services;
      },
      WAIT_MS,
      2000,
    );
    expect(services.filter((s) => s.requests > 0).length).toBeGreaterThanOrEqual(6);
    const frontend = services.find((s) => s.serviceName === 'frontend')!;
    expect(frontend.namespaces).toEqual(['web']);
    expect(frontend.environments).toEqual(['production']);
    expect(frontend.latencyNano.p95).toBeGreaterThan(0);
  }, WAIT_MS + 10_000);

  it('sends traces that cross services: client/server pairs, a database span, a Kafka producer and its consumer', async () => {
    const trace = await eventually(
      async () => {
        const { traces } = await get<TraceSearchResponse>(`/traces?${range}&service=fulfillment&limit=20`);
        const crossing = traces.find((t) => t.services.length >= 3);
        if (!crossing) throw new Error(`no trace through fulfillment crossing 3 services yet (${traces.length} traces)`);
        const t = await get<TraceResponse>(`/traces/${crossing.traceId}`);
        if (!t.spans.some((s) => s.kind === 'Consumer')) throw new Error('consumer span not stored yet');
        // Each simulated pod has its own SDK and batch processor, so a trace's spans arrive over a few export
        // intervals: wait until every parent has arrived (CI caught a check made between two exports).
        const ids = new Set(t.spans.map((s) => s.spanId));
        if (t.spans.some((s) => s.parentSpanId !== '' && !ids.has(s.parentSpanId))) throw new Error('some spans of the trace not stored yet');
        return t;
      },
      WAIT_MS,
      2000,
    );
    const spans = trace.spans;
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    expect(new Set(spans.map((s) => s.serviceName)).size).toBeGreaterThanOrEqual(3);
    expect(spans.filter((s) => s.parentSpanId === '')).toHaveLength(1);
    // Every span's parent is in the trace: the context went across every service boundary.
    for (const s of spans) if (s.parentSpanId !== '') expect(byId.has(s.parentSpanId)).toBe(true);

    const db = spans.find((s) => s.attributes['db.system'] === 'postgresql')!;
    expect(db).toMatchObject({ kind: 'Client' });
    expect(db.attributes['db.query.text']).toMatch(/orders/);
    expect(db.attributes['db.statement']).toBe(db.attributes['db.query.text']);

    const producer = spans.find((s) => s.kind === 'Producer')!;
    const consumer = spans.find((s) => s.kind === 'Consumer')!;
    expect(producer.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.destination.name': 'orders' });
    expect(consumer.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.destination.name': 'orders' });
    expect(consumer.parentSpanId).toBe(producer.spanId);
    expect(consumer.serviceName).not.toBe(producer.serviceName);

    // A server span under another service sits under that service's client span.
    const servers = spans.filter((s) => s.kind === 'Server' && s.parentSpanId !== '');
    expect(servers.length).toBeGreaterThanOrEqual(2);
    for (const s of servers) {
      const parent = byId.get(s.parentSpanId)!;
      expect(parent.kind).toBe('Client');
      expect(parent.serviceName).not.toBe(s.serviceName);
    }
    for (const s of spans) {
      for (const key of ['k8s.namespace.name', 'k8s.pod.name', 'k8s.node.name', 'k8s.deployment.name']) expect(s.resource.attributes[key]).toBeTruthy();
    }
  }, WAIT_MS + 10_000);

  it('the external call to the payment provider carries server.address', async () => {
    const { traces } = await eventually(async () => {
      const r = await get<TraceSearchResponse>(`/traces?${range}&service=payment&limit=5`);
      if (r.traces.length === 0) throw new Error('no payment traces yet');
      return r;
    }, WAIT_MS, 2000);
    const t = await get<TraceResponse>(`/traces/${traces[0]!.traceId}`);
    const external = t.spans.find((s) => s.serviceName === 'payment' && s.kind === 'Client' && s.attributes['server.address'] === 'api.payment-provider.example');
    expect(external?.attributes['url.full']).toBe('https://api.payment-provider.example/v1/charges');
  });

  it('sends logs with the trace and span ids of the span that wrote them, and the pod\'s Kubernetes attributes', async () => {
    const logs = await eventually(async () => {
      const r = await get<LogSearchResponse>(`/logs?${range}&service=checkout&limit=50`);
      if (r.logs.length === 0) throw new Error('no logs of checkout yet');
      return r.logs;
    }, WAIT_MS, 2000);
    for (const l of logs) {
      expect(l.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(l.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(l.resource.attributes).toMatchObject({ 'service.name': 'checkout', 'k8s.namespace.name': 'shop', 'k8s.deployment.name': 'checkout' });
      expect(l.resource.attributes['k8s.pod.name']).toMatch(/^checkout-/);
      expect(l.resource.attributes['k8s.node.name']).toMatch(/^demo-worker-[123]$/);
      expect(l.resource.attributes['k8s.pod.uid']).toMatch(/^[0-9a-f-]{36}$/);
    }
    // The ids point at a stored span of the same service.
    const l = logs[logs.length - 1]!;
    const span = await eventually(async () => {
      const t = await get<TraceResponse>(`/traces/${l.traceId}`);
      const s = t.spans.find((x) => x.spanId === l.spanId);
      if (!s) throw new Error(`span ${l.spanId} of trace ${l.traceId} not stored yet`);
      return s;
    }, 60_000, 1000);
    expect(span.serviceName).toBe('checkout');
  });

  it('sends metrics: request-duration histograms with a p95, counters and a queue-depth gauge', async () => {
    const catalog = await eventually(async () => {
      const r = await get<MetricCatalogResponse>(`/metrics?${range}`);
      const names = r.metrics.map((m) => m.name);
      for (const n of ['http.server.request.duration', 'db.client.operation.duration', 'messaging.client.sent.messages', 'messaging.kafka.consumer.lag']) {
        if (!names.includes(n)) throw new Error(`metric ${n} not there yet (have ${names.join(', ')})`);
      }
      return r.metrics;
    }, WAIT_MS, 2000);
    expect(catalog.find((m) => m.name === 'http.server.request.duration')).toMatchObject({ type: 'histogram', unit: 's' });
    expect(catalog.find((m) => m.name === 'messaging.client.sent.messages')).toMatchObject({ type: 'sum', monotonic: true });
    expect(catalog.find((m) => m.name === 'messaging.kafka.consumer.lag')).toMatchObject({ type: 'gauge' });

    const p95 = await eventually(async () => {
      const r = await get<MetricSeriesResponse>(`/metrics/query?${range}&name=http.server.request.duration&agg=p95&groupBy=ServiceName`);
      const withValues = r.series.filter((s) => s.points.some(([, v]) => Number.isFinite(v) && v! > 0));
      if (withValues.length < 6) throw new Error(`p95 for ${withValues.length} services so far`);
      return r;
    }, WAIT_MS, 2000);
    expect(p95.agg).toMatch(/0\.95/);
    const frontend = p95.series.find((s) => s.labels['ServiceName'] === 'frontend')!;
    // Seconds, as the SDK records them: a shop page takes milliseconds to seconds, never minutes.
    for (const [, v] of frontend.points) expect(v).toBeLessThan(60);
  });

  it('the services page in Chromium lists the shop', async () => {
    let chrome: TestBrowser | undefined;
    try {
      chrome = await launchChromium();
      const page = await chrome.context.newPage();
      await page.goto(`${proc.apiUrl}/services`);
      await page.locator('[data-testid="services-table"] tbody tr[data-row]').first().waitFor({ timeout: 60_000 });
      await eventually(async () => {
        const names = await page.$$eval('[data-testid="services-table"] tbody tr[data-row]', (trs) => trs.map((tr) => tr.getAttribute('data-row')));
        for (const s of SHOP) if (!names.includes(s)) throw new Error(`the table lacks ${s}: ${names.join(', ')}`);
      }, 60_000, 500);
      expect(await page.locator('tr[data-row="frontend"] td[data-col="namespace"]').textContent()).toBe('web');
    } finally {
      await chrome?.close();
    }
  });
});

describe('crowsnest demo', () => {
  it('sends to an endpoint until SIGINT, then flushes and exits 0', async () => {
    const child = spawn(process.execPath, [CLI, 'demo', '--otlp-endpoint', `http://127.0.0.1:${otlpPort}`, '--rate', '20', '--log-format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    try {
      await eventually(() => expect(out).toContain('sends ~20 requests/s'), 60_000, 200);
      await new Promise((r) => setTimeout(r, 3000));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      const stopped = out.split('\n').filter((l) => l.includes('"demo: stopped"')).map((l) => JSON.parse(l) as { requests: number; exports: { ok: Record<string, number>; failed: Record<string, number> } });
      expect(stopped).toHaveLength(1);
      expect(stopped[0]!.requests).toBeGreaterThan(0);
      // What was in the processors at SIGINT went out: every signal exported, nothing failed.
      expect(stopped[0]!.exports.failed).toEqual({ traces: 0, logs: 0, metrics: 0 });
      for (const signal of ['traces', 'logs', 'metrics']) expect(stopped[0]!.exports.ok[signal]).toBeGreaterThan(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it.each([
    [['--otlp-endpoint', 'ftp://127.0.0.1:4318'], 'must be http(s)'],
    [['--otlp-endpoint', 'not a url'], 'must be a URL'],
    [['--rate', '0'], 'must be ≥ 1'],
    [['--demo-rate', '5'], 'unknown flag --demo-rate'],
  ])('refuses %j: exit 2 saying why', (args, why) => {
    const r = spawnSync(process.execPath, [CLI, 'demo', ...args], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(why);
  });
});
