/**
 * The scraper against real HTTP(S) servers on loopback, with an in-memory queue that decodes what it is given with
 * the platform's OTLP decoder. The kubelet cannot run here (kwok fakes kubelets without their HTTP endpoints), so
 * `kubeletTestDouble` serves the kubelet's `/metrics/resource` and `/metrics/cadvisor` text (testdata/, in the
 * kubelet's own format: HELP with stability levels, millisecond timestamps, cAdvisor's empty label values) over
 * HTTPS, and answers 401 without the bearer token, as a kubelet with webhook authentication does.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeProtobuf } from '#otlp/decode.ts';
import type { GaugeRow, SumRow } from '#otlp/rows.ts';
import { silentLogger } from '#core/log.ts';
import { eventually } from '../../test/support/eventually.ts';
import { type Batch, type DurableQueue, type PodDirectory, type PodInfo, QueueFullError } from '../core/contracts.ts';
import { MetricsSource } from './scrape.ts';
import { ACCEPT_HEADER } from './scrape-http.ts';
import { kubeletTargets, podTargets, staticTarget } from './scrape-targets.ts';

const testdata = (f: string) => readFileSync(new URL(`./testdata/${f}`, import.meta.url), 'utf8');

/** A DurableQueue that keeps batches in memory (the disk queue has its own tests). */
class MemoryQueue implements DurableQueue {
  batches: Batch[] = [];
  enqueue(b: Batch): Promise<void> {
    this.batches.push(b);
    return Promise.resolve();
  }
  rows() {
    const gauge: GaugeRow[] = [];
    const sum: SumRow[] = [];
    for (const b of this.batches) {
      const t = decodeProtobuf('metrics', b.body).tables;
      gauge.push(...((t.otel_metrics_gauge ?? [])));
      sum.push(...((t.otel_metrics_sum ?? [])));
    }
    return { gauge, sum };
  }
}

function pod(p: Partial<PodInfo> & { annotations: Record<string, string> }): PodInfo {
  return {
    uid: 'uid-1',
    namespace: 'shop',
    name: 'cart-7c9d8f6b5-abcde',
    nodeName: 'node-1',
    ips: ['10.1.2.3'],
    resource: { 'k8s.namespace.name': 'shop', 'k8s.pod.name': 'cart-7c9d8f6b5-abcde', 'k8s.deployment.name': 'cart' },
    containers: [{ name: 'cart', ports: [{ containerPort: 8080, protocol: 'TCP' }, { containerPort: 9090, protocol: 'TCP' }, { containerPort: 53, protocol: 'UDP' }] }],
    ...p,
  };
}

describe('targets', () => {
  it('reads static specs with and without a job', () => {
    expect(staticTarget('http://127.0.0.1:9100/metrics')).toMatchObject({ job: 'static/127.0.0.1:9100', instance: '127.0.0.1:9100', source: 'static' });
    expect(staticTarget('node=http://127.0.0.1:9100')).toMatchObject({ job: 'node', instance: '127.0.0.1:9100' });
    expect(staticTarget('node=http://127.0.0.1:9100').url.pathname).toBe('/metrics');
    expect(() => staticTarget('ftp://x')).toThrow(/only http and https/);
    expect(() => staticTarget('not a url')).toThrow(/not a URL/);
  });

  it.each([
    ['no scrape annotation', {}, []],
    ['scrape=false', { 'prometheus.io/scrape': 'false' }, []],
    ['the port annotation', { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090' }, ['http://10.1.2.3:9090/metrics']],
    ['path and scheme', { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8443', 'prometheus.io/path': 'stats/prom', 'prometheus.io/scheme': 'https' }, ['https://10.1.2.3:8443/stats/prom']],
    ['no port: every declared TCP port', { 'prometheus.io/scrape': 'true' }, ['http://10.1.2.3:8080/metrics', 'http://10.1.2.3:9090/metrics']],
  ])('pod with %s', (_what, annotations, urls) => {
    const { targets } = podTargets([pod({ annotations })]);
    expect(targets.map((t) => t.url.href)).toEqual(urls);
    for (const t of targets) expect(t).toMatchObject({ job: 'shop/cart', source: 'pod', resource: { 'k8s.deployment.name': 'cart' } });
  });

  it.each([
    ['no IP yet', pod({ ips: [], annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '1' } }), /no pod IP/],
    ['a bad port', pod({ annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': 'http' } }), /is not a port/],
    ['a bad scheme', pod({ annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/scheme': 'ftp' } }), /not http or https/],
  ])('reports a pod with %s', (_what, p, reason) => {
    const { targets, problems } = podTargets([p]);
    expect(targets).toEqual([]);
    expect(problems[0]!.reason).toMatch(reason);
  });

  it('names kubelet targets by node, over HTTPS with the service-account token', () => {
    const t = kubeletTargets({ nodeName: 'node-1', host: '10.0.0.5' });
    expect(t.map((x) => [x.url.href, x.job, x.bearerTokenFile])).toEqual([
      ['https://10.0.0.5:10250/metrics/resource', 'kubelet', '/var/run/secrets/kubernetes.io/serviceaccount/token'],
      ['https://10.0.0.5:10250/metrics/cadvisor', 'cadvisor', '/var/run/secrets/kubernetes.io/serviceaccount/token'],
    ]);
    expect(t[0]!.resource).toEqual({ 'k8s.node.name': 'node-1' });
  });
});

describe('MetricsSource', () => {
  let server: Server;
  let base: string;
  const seen: IncomingMessage[] = [];
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
    '/metrics': (_req, res) => {
      res.setHeader('content-type', 'text/plain; version=0.0.4; charset=utf-8');
      res.end('# TYPE reqs_total counter\nreqs_total{code="200"} 5\n# TYPE temp gauge\ntemp 21.5\n');
    },
    '/om': (_req, res) => {
      res.setHeader('content-type', 'application/openmetrics-text; version=1.0.0; charset=utf-8');
      res.end('# TYPE reqs counter\nreqs_total 7\nreqs_created 1700000000\n# EOF\n');
    },
    '/gzip': (_req, res) => {
      res.setHeader('content-encoding', 'gzip');
      res.end(gzipSync('zipped 1\n'));
    },
    '/broken': (_req, res) => res.end('ok 1\nbroken{ 2\n'),
    '/500': (_req, res) => {
      res.statusCode = 500;
      res.end('boom');
    },
    '/big': (_req, res) => res.end(`big 1\n${'#'.repeat(4096)}\n`),
    '/slow': () => undefined, // never answers
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req);
      const route = routes[new URL(req.url ?? '/', 'http://x').pathname];
      if (route) route(req, res);
      else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const source = (queue: MemoryQueue, opts: Partial<ConstructorParameters<typeof MetricsSource>[0]> = {}) =>
    new MetricsSource({ queue, log: silentLogger(), registry: new Registry(), timeoutMs: 1000, maxBodyBytes: 1024, ...opts });

  const up = (q: MemoryQueue) => q.rows().gauge.filter((g) => g.MetricName === 'up').map((g) => g.Value);

  it('scrapes the text format with Prometheus headers and reports up, duration and samples', async () => {
    const q = new MemoryQueue();
    const s = source(q);
    await s.scrapeOnce(staticTarget(`web=${base}/metrics`));
    const req = seen.at(-1)!;
    expect(req.headers.accept).toBe(ACCEPT_HEADER);
    expect(req.headers['accept-encoding']).toBe('gzip');
    expect(req.headers['x-prometheus-scrape-timeout-seconds']).toBe('1');
    const { gauge, sum } = q.rows();
    expect(sum.map((r) => [r.MetricName, r.Value, r.IsMonotonic, r.ServiceName])).toEqual([['reqs_total', 5, true, 'web']]);
    expect(gauge.map((r) => [r.MetricName, r.Value])).toEqual([
      ['temp', 21.5],
      ['up', 1],
      ['scrape_duration_seconds', expect.any(Number)],
      ['scrape_samples_scraped', 2],
    ]);
    await s.stop();
  });

  it('negotiates OpenMetrics by Content-Type (seconds, _created as start time)', async () => {
    const q = new MemoryQueue();
    await source(q).scrapeOnce(staticTarget(`${base}/om`));
    expect(q.rows().sum[0]).toMatchObject({ MetricName: 'reqs_total', Value: 7, StartTimeUnix: '1700000000000000000' });
  });

  it('reads gzip bodies', async () => {
    const q = new MemoryQueue();
    await source(q).scrapeOnce(staticTarget(`${base}/gzip`));
    expect(q.rows().gauge.find((g) => g.MetricName === 'zipped')?.Value).toBe(1);
  });

  it.each([
    ['a malformed line', '/broken', 'parse_error'],
    ['an HTTP 500', '/500', 'http_status'],
    ['a body over the limit', '/big', 'too_large'],
    ['a timeout', '/slow', 'timeout'],
    ['a refused connection', 'http://127.0.0.1:1/metrics', 'connect'],
  ])('fails the whole scrape on %s: up 0, nothing else sent, counted', async (_what, path, result) => {
    const q = new MemoryQueue();
    const registry = new Registry();
    await source(q, { registry }).scrapeOnce(staticTarget(path.startsWith('http') ? path : `${base}${path}`));
    expect(up(q)).toEqual([0]);
    expect(q.rows().gauge.map((g) => g.MetricName)).toEqual(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);
    const scrapes = (await registry.getSingleMetric('crowsnest_agent_scrapes_total')!.get()).values;
    expect(scrapes).toContainEqual(expect.objectContaining({ labels: { source: 'static', result }, value: 1 }));
  });

  it("honours a target's own timeout over the source's", async () => {
    const q = new MemoryQueue();
    const registry = new Registry();
    await source(q, { registry, timeoutMs: 60_000 }).scrapeOnce({ ...staticTarget(`${base}/slow`), timeoutMs: 100 });
    expect(up(q)).toEqual([0]);
    const scrapes = (await registry.getSingleMetric('crowsnest_agent_scrapes_total')!.get()).values;
    expect(scrapes).toContainEqual(expect.objectContaining({ labels: { source: 'static', result: 'timeout' }, value: 1 }));
  });

  it('counts points the queue refuses as lost', async () => {
    const registry = new Registry();
    const full: DurableQueue = { enqueue: () => Promise.reject(new QueueFullError('full')) };
    await new MetricsSource({ queue: full, log: silentLogger(), registry }).scrapeOnce(staticTarget(`${base}/metrics`));
    const lost = (await registry.getSingleMetric('crowsnest_agent_metrics_lost_points_total')!.get()).values;
    expect(lost).toEqual([expect.objectContaining({ labels: { reason: 'queue_full' }, value: 5 })]);
  });

  it('splits a large scrape into batches of at most maxPointsPerBatch points', async () => {
    const q = new MemoryQueue();
    await source(q, { maxPointsPerBatch: 2 }).scrapeOnce(staticTarget(`${base}/metrics`));
    expect(q.batches.map((b) => b.items)).toEqual([2, 2, 1]);
  });

  it('discovers annotated pods, scrapes them on the interval, and stops when the pod goes', async () => {
    const port = (server.address() as AddressInfo).port;
    let pods: PodInfo[] = [pod({ ips: ['127.0.0.1'], annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port) } })];
    const listeners = new Set<() => void>();
    const directory: PodDirectory = {
      byUid: (uid) => pods.find((p) => p.uid === uid),
      byIp: (ip) => pods.find((p) => p.ips.includes(ip)),
      list: () => pods,
      onChange: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    };
    const q = new MemoryQueue();
    const s = source(q, { pods: directory, intervalMs: 200, timeoutMs: 150 });
    s.start();
    expect(s.targets().map((t) => t.job)).toEqual(['shop/cart']);
    await eventually(() => expect(up(q).length).toBeGreaterThanOrEqual(2), 10_000, 20);
    const row = q.rows().sum[0]!;
    expect(row.ResourceAttributes).toMatchObject({ 'service.name': 'cart', 'service.namespace': 'shop', 'k8s.pod.name': 'cart-7c9d8f6b5-abcde', 'k8s.deployment.name': 'cart' });
    pods = [];
    for (const l of listeners) l();
    expect(s.targets()).toEqual([]);
    await s.stop();
  });
});

describe('kubelet (test double)', () => {
  let dir: string;
  let double: ReturnType<typeof createHttpsServer>;
  let port: number;
  let cert: Buffer;

  /** kubeletTestDouble: HTTPS, bearer token required, the kubelet's two metrics endpoints from testdata/. */
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crowsnest-kubelet-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=node-1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    cert = readFileSync(join(dir, 'cert.pem'));
    writeFileSync(join(dir, 'token'), 'sa-token-123\n');
    double = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
      if (req.headers.authorization !== 'Bearer sa-token-123') {
        res.statusCode = 401;
        res.end('Unauthorized');
        return;
      }
      const file = req.url === '/metrics/resource' ? 'kubelet-metrics-resource.txt' : req.url === '/metrics/cadvisor' ? 'kubelet-metrics-cadvisor.txt' : undefined;
      if (!file) {
        res.statusCode = 404;
        res.end();
        return;
      }
      res.setHeader('content-type', 'text/plain; version=0.0.4; charset=utf-8');
      res.end(testdata(file));
    });
    await new Promise<void>((r) => double.listen(0, '127.0.0.1', r));
    port = (double.address() as AddressInfo).port;
  });
  afterAll(async () => {
    double.closeAllConnections();
    await new Promise((r) => double.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes /metrics/resource and /metrics/cadvisor with the token, verifying the kubelet certificate', async () => {
    const q = new MemoryQueue();
    const s = new MetricsSource({ queue: q, log: silentLogger(), registry: new Registry(), maxBodyBytes: 1 << 20 });
    for (const t of kubeletTargets({ nodeName: 'node-1', host: '127.0.0.1', port, tokenFile: join(dir, 'token'), ca: cert })) await s.scrapeOnce(t);
    const { gauge, sum } = q.rows();
    expect(gauge.filter((g) => g.MetricName === 'up').map((g) => [g.ServiceName, g.Value])).toEqual([
      ['kubelet', 1],
      ['cadvisor', 1],
    ]);
    const cpu = sum.filter((r) => r.MetricName === 'container_cpu_usage_seconds_total' && r.ServiceName === 'kubelet');
    expect(cpu).toHaveLength(3);
    expect(cpu.find((r) => r.Attributes.pod === 'cart-7c9d8f6b5-abcde')).toMatchObject({ Value: 12.004713, IsMonotonic: true, TimeUnix: '1733230410102000000', ResourceAttributes: { 'k8s.node.name': 'node-1' } });
    expect(sum.find((r) => r.MetricName === 'node_cpu_usage_seconds_total')?.Value).toBe(157399.56);
    const root = sum.find((r) => r.ServiceName === 'cadvisor' && r.MetricName === 'container_cpu_usage_seconds_total' && r.Attributes.id === '/');
    expect(root).toMatchObject({ Value: 157399.557421, Attributes: { container: '', pod: '', cpu: 'total' } });
    expect(gauge.find((g) => g.MetricName === 'machine_cpu_cores')?.Value).toBe(2);
    await s.stop();
  });

  it('fails with up 0 when the token is wrong (401), and when the certificate is not trusted', async () => {
    writeFileSync(join(dir, 'bad-token'), 'nope');
    const q = new MemoryQueue();
    const s = new MetricsSource({ queue: q, log: silentLogger(), registry: new Registry() });
    await s.scrapeOnce(kubeletTargets({ nodeName: 'n', host: '127.0.0.1', port, tokenFile: join(dir, 'bad-token'), ca: cert })[0]!);
    await s.scrapeOnce(kubeletTargets({ nodeName: 'n', host: '127.0.0.1', port, tokenFile: join(dir, 'token') })[0]!);
    expect(q.rows().gauge.filter((g) => g.MetricName === 'up').map((g) => g.Value)).toEqual([0, 0]);
    await s.stop();
  });
});
