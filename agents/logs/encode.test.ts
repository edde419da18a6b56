import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeProtobuf } from '#otlp/decode.ts';
import { type OutRecord, LogRecordsWriter, encodeLogs } from './encode.ts';

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

  it('makes the bytes it made before records were encoded one by one (a batch in flight across an upgrade is rebuilt the same)', () => {
    // SHA-256 of this batch as the encoder wrote it before LogRecordsWriter (commit 53ec6ec).
    expect(createHash('sha256').update(encodeLogs(batch)).digest('hex')).toBe('670567283e0a170f73519d1dc67440302c70cd64c7b9583ef8e999a6c5d25f65');
  });

  const record = (i: number, bodyBytes: number): OutRecord => ({
    timeNs: 1_704_164_645_000_000_000n + BigInt(i),
    observedNs: 0n,
    severityNumber: 9,
    severityText: 'INFO',
    body: `${i} `.padEnd(bodyBytes, 'x'),
    attributes: [{ key: 'log.iostream', value: 'stdout' }],
  });

  it.each([
    { what: 'small records in one buffer', count: 50, bodyBytes: 200 },
    { what: 'records outgrowing the first buffer', count: 2000, bodyBytes: 300 },
    { what: 'records larger than a whole buffer', count: 3, bodyBytes: 200_000 },
    { what: 'no record', count: 0, bodyBytes: 0 },
  ])('writes $what as encodeLogs does', ({ count, bodyBytes }) => {
    const records = Array.from({ length: count }, (_, i) => record(i, bodyBytes));
    const w = new LogRecordsWriter();
    for (const r of records) w.add(r);
    expect(w.count).toBe(count);
    const body = Buffer.from(w.finish(batch.resource, batch.scopeName));
    w.release();
    expect(Buffer.compare(body, encodeLogs({ ...batch, records }))).toBe(0);
    expect(decodeProtobuf('logs', body).tables.otel_logs ?? []).toHaveLength(count);
  });

  it('puts headers larger than the room it keeps for them in front of the records all the same', () => {
    const resource = Array.from({ length: 300 }, (_, i) => ({ key: `k8s.pod.label.label-${i}`, value: 'v'.repeat(20) }));
    const w = new LogRecordsWriter();
    w.add(record(1, 100));
    const body = Buffer.from(w.finish(resource, 's'));
    w.release();
    const rows = decodeProtobuf('logs', body).tables.otel_logs!;
    expect(rows).toHaveLength(1);
    expect(Object.keys(rows[0]!.ResourceAttributes)).toHaveLength(300);
  });

  it('reuses released buffers without touching a request still held elsewhere', () => {
    const a = new LogRecordsWriter();
    for (let i = 0; i < 100; i++) a.add(record(i, 200));
    const first = a.finish(batch.resource, batch.scopeName);
    const copy = Buffer.from(first);
    // A second batch built while the first is still in flight gets a buffer of its own.
    const b = new LogRecordsWriter(a.bytes);
    for (let i = 0; i < 100; i++) b.add(record(1000 + i, 200));
    b.finish(batch.resource, batch.scopeName);
    expect(Buffer.compare(first, copy)).toBe(0);
    a.release();
    b.release();
    // Writers reuse the pool afterwards and still write exact requests.
    const c = new LogRecordsWriter(10_000);
    c.add(record(7, 10));
    expect(decodeProtobuf('logs', c.finish(batch.resource, batch.scopeName)).tables.otel_logs![0]!.Body).toBe(record(7, 10).body);
    c.release();
  });
});
