/**
 * The OTLP relay's answers when the gateway does not simply accept, against a real gateway (the platform started
 * with `--auth-token`) and the official OTel SDK exporters as the application (HTTP protobuf, HTTP JSON, gRPC):
 * - the agent's token is missing or wrong (the gateway answers 401): the app gets a retryable answer (503 /
 *   UNAVAILABLE with Retry-After), so its exporter retries, and the agent logs and counts the refusal;
 * - the gateway accepts a request in part (an OTLP partial success: a metric without data rejected, with its
 *   message): the app's exporter receives exactly what it receives from the gateway directly.
 *
 * `noPods` is a test double of the pod directory (a node without pods): attribution by source IP is covered by
 * agent-kube.int.test.ts against a real API server; here every sender is unattributed.
 */
import * as grpc from '@grpc/grpc-js';
import { DiagLogLevel, ValueType, diag } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { type LogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { AggregationTemporality, DataPointType, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '#core/log.ts';
import { toProtobuf } from '#otlp/to-protobuf.ts';
import type { PodDirectory } from '../../agents/core/contracts.ts';
import { HttpSink } from '../../agents/forward/http-sink.ts';
import { eventually } from '../support/eventually.ts';
import { OtlpRelay } from '../../agents/relay/relay.ts';
import { type TestPlatform, getJson, startTestPlatform } from '../support/platform.ts';

const TOKEN = 'gateway-secret';
let platform: TestPlatform;
const warnings: string[] = [];
beforeAll(async () => {
  platform = await startTestPlatform(['--auth-token', TOKEN]);
  diag.setLogger(
    { error: () => undefined, warn: (...a: unknown[]) => warnings.push(a.map(String).join(' ')), info: () => undefined, debug: () => undefined, verbose: () => undefined },
    DiagLogLevel.WARN,
  );
}, 120_000);
afterAll(async () => {
  diag.disable();
  await platform?.stop();
});

/** Test double: a node with no pods (see the header). */
const noPods: PodDirectory = { byUid: () => undefined, byIp: () => undefined, list: () => [], onChange: () => () => undefined };

async function relayWith(authToken: string | undefined) {
  const registry = new Registry();
  const sink = new HttpSink({ endpoint: platform.otlpHttpUrl, authToken, log: silentLogger(), registry, maxRetryDelayMs: 200 });
  const logged: { level: string; msg: string; status?: number }[] = [];
  const log = silentLogger();
  for (const level of ['error', 'warn'] as const) {
    (log as unknown as Record<string, unknown>)[level] = (o: { status?: number }, msg: string) => logged.push({ level, msg, ...(o.status !== undefined ? { status: o.status } : {}) });
  }
  const relay = new OtlpRelay({ sink, pods: noPods, registry, log, host: '127.0.0.1', httpPort: 0, grpcPort: 0, retryAfterSeconds: 1 });
  const ports = await relay.start();
  const metric = async (name: string, labels: Record<string, string> = {}) =>
    ((await registry.getSingleMetric(name)?.get())?.values ?? []).filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((s, v) => s + v.value, 0);
  return {
    ...ports,
    logged,
    metric,
    async close() {
      await relay.stop();
      sink.close();
    },
  };
}

async function emitLog(exporter: LogRecordExporter, service: string): Promise<ExportResultCode> {
  let code: ExportResultCode | undefined;
  const watching: LogRecordExporter = {
    export: (logs, done) => exporter.export(logs, (r) => {
      code = r.code;
      done(r);
    }),
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush(),
  };
  const lp = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': service }), processors: [new SimpleLogRecordProcessor({ exporter: watching })] });
  lp.getLogger('relay-errors').emit({ body: 'hello', severityText: 'INFO', severityNumber: 9 });
  await lp.forceFlush();
  await lp.shutdown();
  if (code === undefined) throw new Error('the exporter never reported');
  return code;
}

/** (platform.inserted() cannot see the pipeline behind --auth-token: callers that expect rows poll.) */
async function storedLogs(service: string): Promise<unknown[]> {
  const { status, body } = await getJson<{ logs: unknown[] }>(`${platform.apiUrl}/api/v1/logs?service=${service}&limit=10`, { authorization: `Bearer ${TOKEN}` });
  expect(status, JSON.stringify(body)).toBe(200);
  return body.logs;
}

describe('OTLP relay in front of a gateway that refuses the agent', () => {
  for (const [name, agentToken] of [['without a token', undefined], ['with a wrong token', 'not-the-token']] as const) {
    it(`${name}: the app's exporter gets a retryable answer and retries; the refusal is logged and counted`, async () => {
      const relay = await relayWith(agentToken);
      try {
        const exporters: [string, LogRecordExporter][] = [
          ['http-proto', new ProtoLogExporter({ url: `http://127.0.0.1:${relay.httpPort}/v1/logs`, timeoutMillis: 2500 })],
          ['http-json', new JsonLogExporter({ url: `http://127.0.0.1:${relay.httpPort}/v1/logs`, timeoutMillis: 2500 })],
          ['grpc', new GrpcLogExporter({ url: `http://127.0.0.1:${relay.grpcPort}`, timeoutMillis: 2500 })],
        ];
        for (const [protocol, exporter] of exporters) {
          const before = await relay.metric('crowsnest_agent_relay_refused_total', { signal: 'logs', status: '401' });
          expect(await emitLog(exporter, `refused-${protocol}`), protocol).toBe(ExportResultCode.FAILED);
          // Retryable: the HTTP exporters asked again (Retry-After 1 s within their 2.5 s), each refused by the
          // gateway. The JS gRPC exporter retries nothing (its transport reports every error as a failure), so
          // its status code is checked on the wire below.
          const refused = (await relay.metric('crowsnest_agent_relay_refused_total', { signal: 'logs', status: '401' })) - before;
          expect(refused, protocol).toBeGreaterThanOrEqual(protocol === 'grpc' ? 1 : 2);
          expect(await storedLogs(`refused-${protocol}`)).toEqual([]);
        }
        // What the app is told, as seen on the wire.
        const res = await fetch(`http://127.0.0.1:${relay.httpPort}/v1/logs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'x' } }] }] }] }),
        });
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('1');
        const status = (await res.json()) as { code: number; message: string };
        expect(status.code).toBe(14);
        expect(status.message).toMatch(/refused this node agent's credentials \(401: .*--otlp-auth-token/);
        const grpcError = await new Promise<grpc.ServiceError | null>((done) => {
          const client = new grpc.Client(`127.0.0.1:${relay.grpcPort}`, grpc.credentials.createInsecure());
          const body = Buffer.from(toProtobuf('logs', JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'x' } }] }] }] })));
          client.makeUnaryRequest('/opentelemetry.proto.collector.logs.v1.LogsService/Export', (b: Buffer) => b, (b: Buffer) => b, body, (err) => {
            client.close();
            done(err);
          });
        });
        expect(grpcError?.code).toBe(grpc.status.UNAVAILABLE);
        expect(grpcError?.details).toMatch(/refused this node agent's credentials \(401/);
        // Logged as the agent's fault, once (not once per request).
        expect(relay.logged.filter((l) => l.level === 'error' && l.status === 401)).toHaveLength(1);
      } finally {
        await relay.close();
      }
    });
  }

  it('with the right token, the same exports are stored (the refusal above was the token\'s)', async () => {
    const relay = await relayWith(TOKEN);
    try {
      expect(await emitLog(new ProtoLogExporter({ url: `http://127.0.0.1:${relay.httpPort}/v1/logs` }), 'accepted-proto')).toBe(ExportResultCode.SUCCESS);
      await eventually(async () => expect(await storedLogs('accepted-proto')).toHaveLength(1), 30_000, 100);
      expect(await relay.metric('crowsnest_agent_relay_refused_total')).toBe(0);
    } finally {
      await relay.close();
    }
  });
});

describe('OTLP relay passing a partial success back', () => {
  /** One gauge point the gateway stores and one metric without data (an unknown type) it rejects. */
  function halfValid(service: string): ResourceMetrics {
    const now: [number, number] = [Math.floor(Date.now() / 1000), 0];
    const descriptor = (name: string) => ({ name, description: '', unit: '1', valueType: ValueType.DOUBLE });
    return {
      resource: resourceFromAttributes({ 'service.name': service }),
      scopeMetrics: [
        {
          scope: { name: 'relay-errors' },
          metrics: [
            { descriptor: descriptor('relay_good_gauge'), dataPointType: DataPointType.GAUGE, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [{ startTime: now, endTime: now, attributes: {}, value: 1 }] },
            // The SDK writes no data field for a type it does not know: a metric the gateway cannot store.
            { descriptor: descriptor('relay_dataless'), dataPointType: 99 as DataPointType.GAUGE, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [] },
          ],
        },
      ],
    };
  }

  async function exportOnce(exporter: PushMetricExporter, service: string): Promise<{ code: ExportResultCode; partial: string[] }> {
    const from = warnings.length;
    const code = await new Promise<ExportResultCode>((done) => exporter.export(halfValid(service), (r) => done(r.code)));
    await exporter.shutdown();
    return { code, partial: warnings.slice(from).filter((w) => w.includes('Partial Success')) };
  }

  it('gives each exporter (HTTP protobuf, HTTP JSON, gRPC) the gateway\'s own partial success, unchanged', async () => {
    const relay = await relayWith(TOKEN);
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${TOKEN}`);
    try {
      const kinds: [string, (url: string, direct: boolean) => PushMetricExporter, (direct: boolean) => string][] = [
        ['http-proto', (url, direct) => new ProtoMetricExporter({ url, ...(direct ? { headers: auth } : {}) }), (direct) => (direct ? `${platform.otlpHttpUrl}/v1/metrics` : `http://127.0.0.1:${relay.httpPort}/v1/metrics`)],
        ['http-json', (url, direct) => new JsonMetricExporter({ url, ...(direct ? { headers: auth } : {}) }), (direct) => (direct ? `${platform.otlpHttpUrl}/v1/metrics` : `http://127.0.0.1:${relay.httpPort}/v1/metrics`)],
        ['grpc', (url, direct) => new GrpcMetricExporter({ url, ...(direct ? { metadata: md } : {}) }), (direct) => (direct ? platform.grpcUrl : `http://127.0.0.1:${relay.grpcPort}`)],
      ];
      for (const [protocol, make, url] of kinds) {
        const direct = await exportOnce(make(url(true), true), `direct-${protocol}`);
        const relayed = await exportOnce(make(url(false), false), `relayed-${protocol}`);
        expect(direct.code, protocol).toBe(ExportResultCode.SUCCESS);
        expect(direct.partial, protocol).toHaveLength(1);
        expect(direct.partial[0], protocol).toMatch(/relay_dataless/);
        expect(relayed.code, protocol).toBe(ExportResultCode.SUCCESS);
        expect(relayed.partial, protocol).toEqual(direct.partial);
      }
      expect(await relay.metric('crowsnest_agent_relay_rejected_items_total', { signal: 'metrics' })).toBe(3);
      // The valid point of each relayed request is stored.
      await eventually(async () => {
        const { body } = await getJson<{ metrics: { name: string }[] }>(`${platform.apiUrl}/api/v1/metrics?limit=1000`, { authorization: `Bearer ${TOKEN}` });
        expect(body.metrics.map((m) => m.name)).toContain('relay_good_gauge');
      }, 30_000, 100);
    } finally {
      await relay.close();
    }
  });
});
