import { describe, expect, it } from 'vitest';
import { decodeProtobuf } from '#otlp/decode.ts';
import { encodeLogs } from './encode.ts';

describe('OTLP logs encoder', () => {
  const batch = {
    resource: [
      { key: 'k8s.pod.name', value: 'cart-7d9f' },
      { key: 'service.name', value: 'cart' },
    ],
    scopeName: 'crowsnest/agent/logs',
    records: [
      {
        timeNs: 1_704_164_645_123_456_789n,
        observedNs: 0n,
        severityNumber: 17,
        severityText: 'ERROR',
        body: 'boom ✓ — ünïcode',
        attributes: [
          { key: 'log.iostream', value: 'stderr' },
          { key: 'n', value: 42 },
          { key: 'neg', value: -7 },
          { key: 'f', value: 2.5 },
          { key: 'ok', value: false },
          { key: 'nil', value: null },
          { key: 'list', value: ['a', 1, true] },
          { key: 'map', value: { b: 1, a: { deep: 'x' } } },
          // Short non-ASCII and long strings take the encoder's other write paths.
          { key: 'clé', value: `${'v'.repeat(40)}…` },
        ],
      },
      { timeNs: 0n, observedNs: 1_704_164_646_000_000_001n, severityNumber: 0, severityText: '', body: '', attributes: [] },
    ],
  };

  it('is read back exactly by the gateway decoder', () => {
    const rows = decodeProtobuf('logs', encodeLogs(batch)).tables.otel_logs!;
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      Timestamp: '1704164645123456789',
      SeverityNumber: 17,
      SeverityText: 'ERROR',
      ServiceName: 'cart',
      Body: 'boom ✓ — ünïcode',
      ScopeName: 'crowsnest/agent/logs',
      ResourceAttributes: { 'k8s.pod.name': 'cart-7d9f', 'service.name': 'cart' },
      LogAttributes: { 'log.iostream': 'stderr', n: '42', neg: '-7', f: '2.5', ok: 'false', nil: '', list: '["a",1,true]', map: '{"a":{"deep":"x"},"b":1}', clé: `${'v'.repeat(40)}…` },
    });
    // No time of its own: the observed time stands in.
    expect(rows[1]).toMatchObject({ Timestamp: '1704164646000000001', Body: '' });
  });

  it('makes the same bytes from the same records (a rebuilt batch is recognised as a retry)', () => {
    expect(Buffer.compare(encodeLogs(batch), encodeLogs(structuredClone(batch)))).toBe(0);
  });
});
