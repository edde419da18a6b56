import { describe, expect, it } from 'vitest';
import type { KafkaPipelineStatus, PipelineResponse } from '../../../query/contract.ts';
import { type Health, ingestHealth } from './ingest-health.ts';

const wal = (appended: number, p: Partial<Extract<PipelineResponse, { transport: 'wal'; appendedOffset: string }>> = {}): PipelineResponse => ({
  transport: 'wal',
  appendedOffset: String(appended),
  insertedOffset: String(appended - (p.pendingRecords ?? 0)),
  pendingRecords: 0,
  pendingBytes: 0,
  maxBytes: 1_000_000,
  segments: 1,
  oldestPendingSeconds: null,
  error: null,
  deadLettered: 0,
  ...p,
});

const kafka = (p: Partial<KafkaPipelineStatus> = {}, lag = 5, produced: number | null = 120): PipelineResponse => ({
  transport: 'kafka',
  groupId: 'crowsnest-writers',
  updatedAt: '2024-01-01T00:00:00Z',
  error: null,
  topics: [
    { topic: 'otlp_spans', lag, producedPerSecond: produced, committedPerSecond: produced, partitions: [] },
    { topic: 'otlp_logs', lag: 0, producedPerSecond: produced === null ? null : 0, committedPerSecond: 0, partitions: [] },
  ],
  totals: { produced: 0, consumed: 0, deadLettered: 0, writerRetries: 0 },
  rates: { produced: 0, consumed: 0 },
  writer: null,
  topicFindings: [],
  ...p,
});

const at = (atMs: number, status: PipelineResponse) => ({ atMs, status });

describe('ingestHealth', () => {
  it.each<[string, PipelineResponse | undefined, PipelineResponse, Pick<Health, 'tone' | 'text'>]>([
    ['WAL, first reading: no rate yet', undefined, wal(100), { tone: 'idle', text: '… req/s · 0 pending' }],
    ['WAL, 50 requests in 2 s', wal(100), wal(150), { tone: 'ok', text: '25 req/s · 0 pending' }],
    ['WAL, quiet', wal(150), wal(150), { tone: 'idle', text: '0 req/s · 0 pending' }],
    ['WAL, slow trickle', wal(150), wal(151), { tone: 'ok', text: '0.5 req/s · 0 pending' }],
    ['WAL, behind', wal(100), wal(150, { pendingRecords: 40, oldestPendingSeconds: 31.2 }), { tone: 'warn', text: '25 req/s · 40 pending (31s behind)' }],
    ['WAL, insert failing', wal(100), wal(150, { pendingRecords: 40, error: 'connection refused' }), { tone: 'bad', text: 'insert failing · 40 pending' }],
    ['WAL, nearly full', wal(100), wal(150, { pendingRecords: 9, pendingBytes: 950_000 }), { tone: 'bad', text: 'WAL nearly full · 9 pending' }],
    ['WAL restarted (offset went down): no rate', wal(500), wal(10), { tone: 'idle', text: '… req/s · 0 pending' }],
    ['Kafka, flowing', undefined, kafka(), { tone: 'ok', text: '120 msg/s · lag 5' }],
    ['Kafka, no rates yet', undefined, kafka({}, 0, null), { tone: 'idle', text: '… msg/s · lag 0' }],
    ['Kafka, lagging', undefined, kafka({}, 25_000), { tone: 'warn', text: '120 msg/s · lag 25,000' }],
    ['Kafka, poll failed', undefined, kafka({ error: 'broker down' }), { tone: 'warn', text: 'Kafka unreadable · 120 msg/s · lag 5' }],
    [
      'Kafka, writer restarting',
      undefined,
      kafka({ writer: { state: 'restarting', error: 'boom', restarts: 2 } }),
      { tone: 'bad', text: 'writer restarting · lag 5' },
    ],
    ['a query process apart', undefined, { transport: 'kafka' }, { tone: 'idle', text: 'ingest: kafka' }],
  ])('%s', (_what, prev, cur, expected) => {
    const h = ingestHealth(prev && at(1000, prev), at(3000, cur));
    expect({ tone: h.tone, text: h.text }).toEqual(expected);
    expect(h.detail.length).toBeGreaterThan(10);
  });
});
