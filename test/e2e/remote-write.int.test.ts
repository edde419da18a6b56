/**
 * Prometheus remote_write 1.0 into the real platform: a Debian Prometheus server scrapes itself and writes to the
 * gateway's `/api/v1/write`; its samples are found through the metrics API, with kinds from the metadata Prometheus
 * sends. Malformed requests (bad snappy, bad protobuf, a series without a name) get 400s and store nothing.
 */
import snappy from 'snappy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytes, concat, double, msg, varint } from '#otlp/test-pb.ts';
import { eventually } from '../support/eventually.ts';
import { type TestPlatform, apiOk, startTestPlatform } from '../support/platform.ts';
import { type PromProcess, startPrometheus } from '../support/prometheus.ts';

let platform: TestPlatform;
let prometheus: PromProcess;

type Json = Record<string, any>;
const api = (path: string, params: Record<string, string> = {}) => apiOk<Json>(platform.apiUrl, path, params);

beforeAll(async () => {
  platform = await startTestPlatform();
  prometheus = await startPrometheus(`
global:
  scrape_interval: 1s
  external_labels:
    cluster: test
scrape_configs:
  - job_name: prom
    static_configs:
      - targets: ['127.0.0.1:$PORT']
remote_write:
  - url: ${platform.otlpHttpUrl}/api/v1/write
    queue_config:
      batch_send_deadline: 1s
      min_backoff: 100ms
      max_backoff: 1s
    metadata_config:
      send_interval: 2s
`);
}, 180_000);

afterAll(async () => {
  await prometheus?.stop();
  await platform?.stop();
});

describe('remote_write from a real Prometheus', () => {
  it('delivers its samples: job and instance on the resource, external labels as attributes, counters as sums', async () => {
    await eventually(
      async () => {
        await platform.inserted();
        const { points } = await api('/api/v1/metrics/points', { name: 'up', filter: 'ServiceName=prom', limit: '100' });
        expect((points as Json[]).length).toBeGreaterThan(0);
        const p = (points as Json[])[0]!;
        expect(p.value).toBe(1);
        expect(p.attributes).toEqual({ cluster: 'test' });
        expect(p.resourceAttributes).toMatchObject({ 'service.name': 'prom', 'service.instance.id': `127.0.0.1:${prometheus.port}` });
        expect(p.scopeName).toBe('crowsnest/remote_write');

        const { metrics } = await api('/api/v1/metrics', { search: 'prometheus_http_requests_total', service: 'prom' });
        expect((metrics as Json[]).map((m) => [m.name, m.type, m.monotonic])).toEqual([['prometheus_http_requests_total', 'sum', true]]);
      },
      120_000,
      1000,
    );
  });

  it('stores a histogram as its _bucket, _sum and _count series (not reassembled), cumulative sums with le', async () => {
    await eventually(
      async () => {
        await platform.inserted();
        const { metrics } = await api('/api/v1/metrics', { search: 'prometheus_http_request_duration_seconds', service: 'prom' });
        const byName = Object.fromEntries((metrics as Json[]).map((m) => [m.name, m]));
        for (const suffix of ['_bucket', '_sum', '_count']) expect(byName[`prometheus_http_request_duration_seconds${suffix}`]?.type, suffix).toBe('sum');
        expect(byName.prometheus_http_request_duration_seconds_bucket.labels).toContain('le');
      },
      120_000,
      1000,
    );
  });
});

describe('remote_write input validation against the running platform', () => {
  const label = (n: string, v: string) => msg(1, bytes(1, n), bytes(2, v));
  const series = (labels: [string, string][]) => msg(1, ...labels.map(([k, v]) => label(k, v)), msg(2, double(1, 1), varint(2, Date.now())));
  const post = (body: Uint8Array) =>
    fetch(`${platform.otlpHttpUrl}/api/v1/write`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' }, body: Buffer.from(body) });

  it.each([
    ['bad snappy', () => Uint8Array.from([0x0a, 0xff, 0xff, 0xff]), /snappy/],
    ['bad protobuf', () => snappy.compressSync(Buffer.from(concat(series([['__name__', 'rw_bad_proto']]), Uint8Array.from([0x0a, 0x7f])))), /invalid remote_write WriteRequest/],
    ['a series without a name', () => snappy.compressSync(Buffer.from(concat(series([['__name__', 'rw_no_name_sibling']]), series([['job', 'x']])))), /no metric name/],
  ])('answers 400 to %s and stores nothing', async (_what, body, reason) => {
    const res = await post(body());
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(reason);
    await platform.inserted();
    const { metrics } = await api('/api/v1/metrics', { search: 'rw_' });
    expect(metrics).toEqual([]);
  });

  it('stores a valid request written by hand (the control for the cases above)', async () => {
    const res = await post(snappy.compressSync(Buffer.from(series([['__name__', 'rw_ok'], ['job', 'hand']]))));
    expect(res.status).toBe(204);
    await eventually(async () => {
      await platform.inserted();
      const { metrics } = await api('/api/v1/metrics', { search: 'rw_' });
      expect((metrics as Json[]).map((m) => m.name)).toEqual(['rw_ok']);
    });
  });
});
