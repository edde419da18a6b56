import { decodeProtobuf } from '#otlp/decode.ts';
import { toProtobuf } from '#otlp/to-protobuf.ts';
import { describe, expect, it } from 'vitest';
import { addResourceAttributes } from './enrich.ts';
import { sourceAddress } from './relay.ts';

const kv = (key: string, value: string) => ({ key, value: { stringValue: value } });
const POD = { 'k8s.namespace.name': 'shop', 'k8s.pod.name': 'cart-1', 'service.name': 'from-pod' };

function logsRequest(resources: (object | undefined)[]): Uint8Array {
  return toProtobuf(
    'logs',
    JSON.stringify({
      resourceLogs: resources.map((resource, i) => ({
        ...(resource ? { resource } : {}),
        scopeLogs: [{ scope: { name: 'lib' }, logRecords: [{ timeUnixNano: String(1e18 + i), body: { stringValue: `line ${i}` } }] }],
        schemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
      })),
    }),
  );
}

describe('addResourceAttributes', () => {
  it('adds the pod\'s attributes to every resource, never overwriting what the application set', () => {
    const body = logsRequest([{ attributes: [kv('service.name', 'cart'), kv('host.name', 'h')] }, undefined, { attributes: [] }]);
    const rows = decodeProtobuf('logs', addResourceAttributes('logs', body, POD)).tables.otel_logs!;
    expect(rows.map((r) => r.ResourceAttributes)).toEqual([
      { 'service.name': 'cart', 'host.name': 'h', 'k8s.namespace.name': 'shop', 'k8s.pod.name': 'cart-1' },
      POD,
      POD,
    ]);
    // Everything else is copied: bodies, times, scope, schema URL.
    expect(rows.map((r) => [r.Body, r.Timestamp, r.ScopeName, r.ResourceSchemaUrl])).toEqual(
      decodeProtobuf('logs', body).tables.otel_logs!.map((r) => [r.Body, r.Timestamp, r.ScopeName, r.ResourceSchemaUrl]),
    );
  });

  it('returns the same bytes when every attribute is already there, or there is nothing to add', () => {
    const body = logsRequest([{ attributes: Object.entries(POD).map(([k, v]) => kv(k, v)) }]);
    expect(addResourceAttributes('logs', body, POD)).toBe(body);
    expect(addResourceAttributes('logs', body, {})).toBe(body);
  });

  it('works on traces and metrics, whose containers share the layout', () => {
    const traces = toProtobuf('traces', JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name: 'GET', startTimeUnixNano: '1', endTimeUnixNano: '2' }] }] }] }));
    expect(decodeProtobuf('traces', addResourceAttributes('traces', traces, POD)).tables.otel_traces![0]!.ResourceAttributes).toEqual(POD);
    const metrics = toProtobuf('metrics', JSON.stringify({ resourceMetrics: [{ resource: {}, scopeMetrics: [{ metrics: [{ name: 'up', gauge: { dataPoints: [{ asDouble: 1, timeUnixNano: '1' }] } }] }] }] }));
    expect(decodeProtobuf('metrics', addResourceAttributes('metrics', metrics, POD)).tables.otel_metrics_gauge![0]!.ResourceAttributes).toEqual(POD);
  });
});

describe('sourceAddress', () => {
  it.each([
    ['10.1.2.3', '10.1.2.3'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['127.0.0.5:43210', '127.0.0.5'],
    ['ipv4:127.0.0.5:43210', '127.0.0.5'],
    ['[::1]:43210', '::1'],
    ['[::ffff:10.0.0.7]:1', '10.0.0.7'],
    ['fd00::1', 'fd00::1'],
  ])('%s → %s', (peer, ip) => expect(sourceAddress(peer)).toBe(ip));
});
