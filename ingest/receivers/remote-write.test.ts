/**
 * remote_write 1.0 through the gateway's HTTP receiver (fastify inject), with a transport that records what would be
 * published: WriteRequests are hand-encoded here with the field numbers of prompb/remote.proto and types.proto spelled
 * out (the independent check of the decoder), snappy-compressed with the `snappy` package Prometheus's format matches.
 */
import snappy from 'snappy';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '#core/log.ts';
import { createMetrics } from '#core/metrics.ts';
import type { GaugeRow, SumRow } from '#otlp/rows.ts';
import type { DecodedRequest } from '#otlp/rows.ts';
import { bytes, concat, double, msg, tag, varint } from '#otlp/test-pb.ts';
import type { Envelope, PublishResult, Transport } from '../pipeline/transport.ts';
import { buildHttpReceiver } from './http.ts';
import { MetadataCache, kindOf, snappyLength } from './remote-write.ts';

const published: DecodedRequest[] = [];
let next: PublishResult = { ok: true };
const transport: Transport = {
  name: 'test',
  needsRows: true,
  publish: (p: Envelope) => {
    if (next.ok) published.push(p.decoded as DecodedRequest);
    return Promise.resolve(next);
  },
  close: () => Promise.resolve(),
};
const app = buildHttpReceiver({ transport, metrics: createMetrics(), log: silentLogger(), maxRequestBytes: 64 * 1024 });
afterAll(() => app.close());
beforeEach(() => {
  published.length = 0;
  next = { ok: true };
});

// ---- WriteRequest encoding (field numbers from prompb) -------------------------------------------------------------
const label = (name: string, value: string) => msg(1, bytes(1, name), bytes(2, value));
const sample = (value: number, ts: number) => msg(2, double(1, value), varint(2, ts));
const exemplar = (labels: [string, string][], value: number, ts: number) => msg(3, ...labels.map(([k, v]) => label(k, v)), double(2, value), varint(3, ts));
const series = (labels: [string, string][], samples: [number, number][], exemplars: Uint8Array[] = []) =>
  msg(1, ...labels.map(([k, v]) => label(k, v)), ...samples.map(([v, t]) => sample(v, t)), ...exemplars);
/** MetricMetadata: 1 type, 2 family name, 4 help, 5 unit. */
const metadata = (type: number, family: string, help = '', unit = '') => msg(3, varint(1, type), bytes(2, family), bytes(4, help), bytes(5, unit));

const post = (body: Uint8Array, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/write',
    headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0', ...headers },
    payload: Buffer.from(body),
  });
const write = (...parts: Uint8Array[]) => post(snappy.compressSync(Buffer.from(concat(...parts))));

const T = 1_700_000_000_123;
const rows = () => {
  const gauge: GaugeRow[] = [];
  const sum: SumRow[] = [];
  for (const p of published) {
    gauge.push(...((p.tables.otel_metrics_gauge ?? [])));
    sum.push(...((p.tables.otel_metrics_sum ?? [])));
  }
  return { gauge, sum };
};

describe('POST /api/v1/write', () => {
  it('stores samples: job and instance on the resource, other labels as attributes, 204', async () => {
    const res = await write(
      series(
        [
          ['__name__', 'node_load1'],
          ['instance', 'host-1:9100'],
          ['job', 'infra/node'],
          ['mode', 'x'],
        ],
        [
          [0.5, T],
          [0.75, T + 15_000],
        ],
      ),
    );
    expect(res.statusCode).toBe(204);
    const { gauge } = rows();
    expect(gauge.map((g) => [g.MetricName, g.Value, g.TimeUnix, g.Attributes])).toEqual([
      ['node_load1', 0.5, `${T}000000`, { mode: 'x' }],
      ['node_load1', 0.75, `${T + 15_000}000000`, { mode: 'x' }],
    ]);
    expect(gauge[0]!.ResourceAttributes).toEqual({ 'service.namespace': 'infra', 'service.name': 'node', 'service.instance.id': 'host-1:9100' });
    expect(gauge[0]!.ScopeName).toBe('crowsnest/remote_write');
  });

  it('uses metadata from an earlier request for the kind: counter → monotonic sum, histogram series → sums, summary quantiles → gauge', async () => {
    // Prometheus sends metadata in requests of its own.
    expect((await write(metadata(1, 'reqs'), metadata(3, 'lat'), metadata(5, 'rpc'), metadata(2, 'temp_count', 'A gauge.'))).statusCode).toBe(204);
    expect(published).toHaveLength(0);
    const s = (name: string, extra: [string, string][] = []) => series([['__name__', name], ...extra, ['job', 'j']].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)) as [string, string][], [[1, T]]);
    await write(s('reqs_total'), s('lat_bucket', [['le', '0.5']]), s('lat_count'), s('lat_sum'), s('rpc', [['quantile', '0.9']]), s('rpc_count'), s('temp_count'));
    const { gauge, sum } = rows();
    expect(sum.map((r) => [r.MetricName, r.IsMonotonic, r.AggregationTemporality])).toEqual([
      ['reqs_total', true, 2],
      ['lat_bucket', true, 2],
      ['lat_count', true, 2],
      ['lat_sum', true, 2],
      ['rpc_count', true, 2],
    ]);
    expect(gauge.map((r) => [r.MetricName, r.MetricDescription])).toEqual([
      ['rpc', ''],
      ['temp_count', 'A gauge.'],
    ]);
    expect(sum.find((r) => r.MetricName === 'lat_bucket')!.Attributes).toEqual({ le: '0.5' });
  });

  it('turns the staleness marker into the no-recorded-value flag and keeps other NaNs and infinities', async () => {
    // The marker's bits written raw: a NaN's payload may not survive a JS number.
    const staleBits = Uint8Array.from([0x02, 0, 0, 0, 0, 0, 0xf0, 0x7f]);
    const staleSample = msg(2, concat(tag(1, 1), staleBits), varint(2, T));
    await write(msg(1, label('__name__', 'g'), staleSample, sample(NaN, T + 1), sample(Infinity, T + 2)));
    const { gauge } = rows();
    expect(gauge.map((g) => [g.Value, g.Flags])).toEqual([
      [0, 1],
      [NaN, 0],
      [Infinity, 0],
    ]);
  });

  it('carries exemplars with trace and span ids', async () => {
    await write(
      series(
        [['__name__', 'c_total']],
        [[3, T]],
        [exemplar([['span_id', 'b7ad6b7169203331'], ['trace_id', '0af7651916cd43dd8448eb211c80319c'], ['user', 'u']], 1, T - 5)],
      ),
    );
    expect(rows().sum[0]).toMatchObject({ 'Exemplars.TraceId': ['0af7651916cd43dd8448eb211c80319c'], 'Exemplars.SpanId': ['b7ad6b7169203331'], 'Exemplars.FilteredAttributes': [{ user: 'u' }] });
  });

  it('adds target_info labels to the resource and drops the series', async () => {
    await write(series([['__name__', 'target_info'], ['instance', 'i'], ['job', 'j'], ['region', 'eu']], [[1, T]]), series([['__name__', 'g'], ['instance', 'i'], ['job', 'j']], [[2, T]]));
    const { gauge } = rows();
    expect(gauge.map((g) => g.MetricName)).toEqual(['g']);
    expect(gauge[0]!.ResourceAttributes).toMatchObject({ region: 'eu', 'service.name': 'j' });
  });

  it.each([
    ['bad snappy', () => post(Buffer.from([0x0a, 0xff, 0xff, 0xff])), 400, /not valid snappy/],
    ['no snappy preamble', () => post(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), 400, /no length preamble/],
    ['bad protobuf', () => post(snappy.compressSync(Buffer.from([0x0a, 0x05, 0x0a]))), 400, /invalid remote_write WriteRequest: .*truncated/],
    ['a series without a name', () => write(series([['job', 'x']], [[1, T]])), 400, /no metric name \(__name__ label\)/],
    ['unsorted labels', () => write(series([['__name__', 'm'], ['b', '1'], ['a', '2']], [[1, T]])), 400, /labels are not sorted by name \("b" before "a"\)/],
    ['duplicate labels', () => write(series([['__name__', 'm'], ['a', '1'], ['a', '2']], [[1, T]])), 400, /duplicate label name "a"/],
    ['gzip instead of snappy', () => post(snappy.compressSync(Buffer.alloc(1)), { 'content-encoding': 'gzip' }), 415, /Content-Encoding "gzip"/],
    ['JSON', () => post(snappy.compressSync(Buffer.alloc(1)), { 'content-type': 'application/json' }), 415, /Content-Type "application\/json"/],
    ['remote_write 2.0', () => post(snappy.compressSync(Buffer.alloc(1)), { 'content-type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request' }), 415, /Content-Type/],
    ['a decompressed size over the limit', () => post(Buffer.from([0x80, 0x80, 0x80, 0x01, 0x00])), 413, /over the 65536-byte limit/],
  ])('rejects %s with its status and the reason, writing nothing', async (_what, send, status, reason) => {
    // A valid series first in the same request: rejection is whole.
    const res = await send();
    expect(res.statusCode).toBe(status);
    expect(res.body).toMatch(reason);
    expect(published).toHaveLength(0);
  });

  it('rejects a whole request when a later series is invalid', async () => {
    const res = await write(series([['__name__', 'ok']], [[1, T]]), series([['a', '1']], [[1, T]]));
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/timeseries\[1\]/);
    expect(published).toHaveLength(0);
  });

  it('answers 503 with Retry-After when the pipeline is full', async () => {
    next = { ok: false, retryable: true, reason: 'ingest queue is full', retryAfterSeconds: 3 };
    const res = await write(series([['__name__', 'm']], [[1, T]]));
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('3');
    expect(res.body).toMatch(/ingest queue is full/);
  });

  it('is behind the bearer token when the gateway has one', async () => {
    const secured = buildHttpReceiver({ transport, metrics: createMetrics(), log: silentLogger(), maxRequestBytes: 64 * 1024, authTokens: ['s3cret'] });
    const body = snappy.compressSync(Buffer.from(series([['__name__', 'm']], [[1, T]])));
    const headers = { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' };
    expect((await secured.inject({ method: 'POST', url: '/api/v1/write', headers, payload: body })).statusCode).toBe(401);
    expect((await secured.inject({ method: 'POST', url: '/api/v1/write', headers: { ...headers, authorization: 'Bearer s3cret' }, payload: body })).statusCode).toBe(204);
    await secured.close();
  });
});

describe('kindOf without metadata', () => {
  it.each([
    ['http_requests_total', [], 'sum'],
    ['lat_bucket', [['le', '1']], 'sum'],
    ['lat_count', [], 'sum'],
    ['lat_sum', [], 'sum'],
    ['temperature', [], 'gauge'],
    ['rpc', [['quantile', '0.5']], 'gauge'],
  ] as [string, [string, string][], string][])('%s is a %s', (name, labels, kind) => {
    expect(kindOf(name, labels, new MetadataCache()).kind.kind).toBe(kind);
  });
});

describe('snappyLength', () => {
  it('reads the varint preamble', () => {
    expect(snappyLength(snappy.compressSync(Buffer.alloc(300)))).toBe(300);
    expect(snappyLength(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]))).toBeUndefined();
  });
});
