/**
 * Log records sent by the official OpenTelemetry JS exporters (OTLP http/json, http/protobuf and gRPC) come back
 * through the query API exactly: nanosecond timestamps, severity,
 * string and structured bodies, attributes of every AnyValue type, resource and scope with their schema URLs,
 * event name and trace context; and the search filters (full text, severity, attribute) and the histogram count
 * them right.
 */
import { randomBytes } from 'node:crypto';
import { TraceFlags, context, trace } from '@opentelemetry/api';
import { type LogAttributes as Attributes, SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter as GrpcExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as JsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { type LogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestPlatform, getJson, startTestPlatform } from '../support/platform.ts';

let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(async () => {
  await platform?.stop();
});

// Log attributes may be any AnyValue (not only the primitive-or-array span attributes).
const ATTRS: Attributes = {
  'str': 'hello "world" ✓',
  'str.empty': '',
  'bool.true': true,
  'bool.false': false,
  'int': 42,
  'int.negative': -7,
  'int.max_safe': Number.MAX_SAFE_INTEGER,
  'double': 3.25,
  'double.tiny': 0.1,
  'double.exp': -2.5e-7,
  'bytes': new Uint8Array([0, 1, 2, 253, 254, 255]),
  'array.str': ['a', 'b'],
  'array.int': [1, 2, 3],
  'array.bool': [true, false],
  'array.mixed': ['x', 1, 2.5, false],
  'map': { b: 1, a: 'x<y', nested: { ok: true, list: [0.5] } },
  'empty': null,
};
// The exporter-compatible string form of each value (what otel_logs holds): maps as JSON with sorted keys and
// HTML characters escaped, bytes as base64, an empty value as "".
const ATTRS_STORED: Record<string, string> = {
  'str': 'hello "world" ✓',
  'str.empty': '',
  'bool.true': 'true',
  'bool.false': 'false',
  'int': '42',
  'int.negative': '-7',
  'int.max_safe': '9007199254740991',
  'double': '3.25',
  'double.tiny': '0.1',
  'double.exp': '-2.5e-7',
  'bytes': 'AAEC/f7/',
  'array.str': '["a","b"]',
  'array.int': '[1,2,3]',
  'array.bool': '[true,false]',
  'array.mixed': '["x",1,2.5,false]',
  'map': '{"a":"x\\u003cy","b":1,"nested":{"list":[0.5],"ok":true}}',
  'empty': '',
};

const MAP_BODY = { user: 'ann', amount: 12.5, items: 3, ok: false, tags: ['vip'] };
const MAP_BODY_STORED = '{"amount":12.5,"items":3,"ok":false,"tags":["vip"],"user":"ann"}';
const TEXT_BODY = 'Payment declined for order A-1001: card expired';

const RESOURCE_SCHEMA = 'https://opentelemetry.io/schemas/1.29.0';
const SCOPE_SCHEMA = 'https://opentelemetry.io/schemas/1.30.0';

const exporters: [string, (platform: TestPlatform) => LogRecordExporter][] = [
  ['http/json', (p) => new JsonExporter({ url: `${p.otlpHttpUrl}/v1/logs` })],
  ['http/protobuf', (p) => new ProtoExporter({ url: `${p.otlpHttpUrl}/v1/logs` })],
  ['grpc', (p) => new GrpcExporter({ url: p.grpcUrl })],
];

const ns = (sec: number, nanos: number) => (BigInt(sec) * 1_000_000_000n + BigInt(nanos)).toString();
const rfc3339 = (sec: number, nanos: string) => `${new Date(sec * 1000).toISOString().slice(0, 19)}.${nanos}Z`;

describe.each(exporters)('logs over OTLP %s', (protocol, make) => {
  const service = `logs-${protocol.replace('/', '-')}`;
  const pod = `checkout-${protocol.replace('/', '-')}-7d9f`;
  // Recent (older data would already be past the logs retention TTL and dropped on insert); non-zero
  // nanoseconds catch any millisecond rounding.
  const S = Math.floor(Date.now() / 1000) - 600;
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  const api = (path: string, params: Record<string, string | string[]>) => {
    const u = new URL(`${platform.apiUrl}${path}`);
    const all = { service, start: String((S - 60) * 1000), end: String((S + 60) * 1000), ...params };
    for (const [k, v] of Object.entries(all)) for (const one of [v].flat()) u.searchParams.append(k, one);
    return getJson(u.toString());
  };
  const bodies = async (params: Record<string, string | string[]>) => {
    const { status, body } = await api('/api/v1/logs', params);
    expect(status).toBe(200);
    return (body.logs as { body: string }[]).map((l) => l.body);
  };

  beforeAll(async () => {
    const lp = new LoggerProvider({
      resource: resourceFromAttributes(
        { 'service.name': service, 'k8s.namespace.name': 'shop', 'k8s.pod.name': pod, 'host.cpu.count': 8 },
        { schemaUrl: RESOURCE_SCHEMA },
      ),
      processors: [new SimpleLogRecordProcessor({ exporter: make(platform) })],
    });
    const logger = lp.getLogger('roundtrip-logger', '2.0.1', { schemaUrl: SCOPE_SCHEMA, attributes: { 'scope.team': 'payments', 'scope.shard': 4 } });
    const inSpan = trace.setSpanContext(context.active(), { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true });
    logger.emit({
      timestamp: [S, 123_456_789],
      observedTimestamp: [S, 223_456_789],
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      body: TEXT_BODY,
      attributes: ATTRS,
      eventName: 'payment.declined',
      context: inSpan,
    });
    logger.emit({
      timestamp: [S + 1, 1],
      severityNumber: SeverityNumber.ERROR2,
      severityText: 'ERROR',
      body: MAP_BODY,
      attributes: { 'order.id': 'A-1002', 'retry': 3 },
    });
    logger.emit({
      timestamp: [S + 2, 987_654_321],
      observedTimestamp: [S + 3, 5],
      severityNumber: SeverityNumber.DEBUG,
      severityText: 'debug',
      body: 'cache warmed in 12 ms',
    });
    await lp.forceFlush();
    await lp.shutdown();
    await platform.inserted();
  });

  it('returns every field exactly through GET /api/v1/logs, newest first', async () => {
    const { status, body } = await api('/api/v1/logs', {});
    expect(status).toBe(200);
    const logs: any[] = body.logs;
    expect(logs.map((l) => l.timeUnixNano)).toEqual([ns(S + 2, 987_654_321), ns(S + 1, 1), ns(S, 123_456_789)]);
    expect(body.nextCursor).toBeUndefined();
    const resource = {
      attributes: { 'service.name': service, 'k8s.namespace.name': 'shop', 'k8s.pod.name': pod, 'host.cpu.count': '8' },
      schemaUrl: RESOURCE_SCHEMA,
    };
    const scope = { name: 'roundtrip-logger', version: '2.0.1', attributes: { 'scope.team': 'payments', 'scope.shard': '4' }, schemaUrl: SCOPE_SCHEMA };
    // Observed times are sent too, but otel_logs (the ClickHouse exporter's schema) has no column for them: each
    // record must come back with its own time, not its observed time.
    const [plain, structured, text] = logs;
    expect(text).toEqual({
      timeUnixNano: ns(S, 123_456_789),
      time: rfc3339(S, '123456789'),
      traceId,
      spanId,
      traceFlags: 1,
      severityText: 'INFO',
      severityNumber: 9,
      serviceName: service,
      body: TEXT_BODY,
      eventName: 'payment.declined',
      attributes: ATTRS_STORED,
      resource,
      scope,
    });
    expect(structured).toEqual({
      timeUnixNano: ns(S + 1, 1),
      time: rfc3339(S + 1, '000000001'),
      traceId: '',
      spanId: '',
      traceFlags: 0,
      severityText: 'ERROR',
      severityNumber: 18,
      serviceName: service,
      body: MAP_BODY_STORED,
      eventName: '',
      attributes: { 'order.id': 'A-1002', 'retry': '3' },
      resource,
      scope,
    });
    expect(plain).toMatchObject({ severityText: 'debug', severityNumber: 5, body: 'cache warmed in 12 ms', attributes: {}, traceId: '' });
  });

  it('full-text q matches whole words of the body, case-insensitively, and phrases in order', async () => {
    expect(await bodies({ q: 'declined' })).toEqual([TEXT_BODY]);
    expect(await bodies({ q: 'DECLINED' })).toEqual([TEXT_BODY]);
    expect(await bodies({ q: 'card expired' })).toEqual([TEXT_BODY]);
    expect(await bodies({ q: 'expired card' })).toEqual([]);
    expect(await bodies({ q: 'decline' })).toEqual([]);
    expect(await bodies({ q: 'ann' })).toEqual([MAP_BODY_STORED]);
    expect(await bodies({ q: 'warmed' })).toEqual(['cache warmed in 12 ms']);
  });

  it('filters by minimum severity, by record or resource attribute and by trace id', async () => {
    expect(await bodies({ severity: 'ERROR' })).toEqual([MAP_BODY_STORED]);
    expect(await bodies({ severity: 'info' })).toEqual([MAP_BODY_STORED, TEXT_BODY]);
    expect(await bodies({ severity: '19' })).toEqual([]);
    expect(await bodies({ attr: 'order.id=A-1002' })).toEqual([MAP_BODY_STORED]);
    expect(await bodies({ attr: ['int=42', 'bytes=AAEC/f7/'] })).toEqual([TEXT_BODY]);
    expect(await bodies({ attr: ['int=42', 'order.id=A-1002'] })).toEqual([]);
    expect(await bodies({ attr: `k8s.pod.name=${pod}` })).toHaveLength(3);
    expect(await bodies({ traceId: traceId.toUpperCase() })).toEqual([TEXT_BODY]);
  });

  it('GET /api/v1/logs/histogram counts each record in its bucket, per severity class', async () => {
    const { status, body } = await api('/api/v1/logs/histogram', { bucket: '1s', by: 'severity', start: String((S - 5) * 1000), end: String((S + 5) * 1000) });
    expect(status).toBe(200);
    expect(body.bucketMs).toBe(1000);
    const buckets: { t: number; count: number; bySeverity?: Record<string, number> }[] = body.buckets;
    expect(buckets.map((b) => b.t)).toEqual(Array.from({ length: 11 }, (_, i) => (S - 5 + i) * 1000));
    expect(buckets.filter((b) => b.count > 0)).toEqual([
      { t: S * 1000, count: 1, bySeverity: { INFO: 1 } },
      { t: (S + 1) * 1000, count: 1, bySeverity: { ERROR: 1 } },
      { t: (S + 2) * 1000, count: 1, bySeverity: { DEBUG: 1 } },
    ]);
    const filtered = await api('/api/v1/logs/histogram', { bucket: '1m', q: 'declined', start: String((S - 5) * 1000), end: String((S + 5) * 1000) });
    expect(filtered.status).toBe(200);
    expect((filtered.body.buckets as { count: number }[]).reduce((n, b) => n + b.count, 0)).toBe(1);
  });
});
