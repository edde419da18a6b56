/**
 * Write-ahead log metrics, registered in the platform registry. What is pending uses the platform's queue gauges
 * (`crowsnest_queue_bytes`, `crowsnest_queue_depth`: accepted and not yet in ClickHouse), so dashboards read the
 * same series whatever the transport.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { PlatformMetrics } from '#core/metrics.ts';

export interface WalMetrics {
  /** One observation per group commit: the fdatasync time acknowledged requests waited for. */
  syncSeconds: Histogram;
  /** Records each sync made durable (how much group commit groups). */
  syncRecords: Histogram;
  appended: Counter<'signal'>;
  appendedBytes: Counter<'signal'>;
  /** Appends refused: full (503 to clients), failed (a write or sync error), closed. */
  refused: Counter<'reason'>;
  segments: Gauge;
  oldestPendingSeconds: Gauge;
  /** Insert attempts retried while ClickHouse failed. */
  retries: Counter;
  replays: Counter;
  replayedRows: Counter;
  deadLettered: Counter<'reason'>;
  /** Requests recognized as a client's retry of one already in the log (answered without a second record). */
  retriesRecognized: Counter;
}

/** What the gauges read at each scrape. */
export interface WalGaugeSource {
  segmentCount: number;
  oldestPendingSeconds(): number | undefined;
}

export function createWalMetrics(platform: PlatformMetrics, source: WalGaugeSource): WalMetrics {
  const registers = [platform.registry];
  return {
    syncSeconds: new Histogram({
      name: 'crowsnest_wal_sync_seconds',
      help: 'Duration of each write-ahead log group commit (fdatasync); acknowledged requests waited for one.',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    syncRecords: new Histogram({
      name: 'crowsnest_wal_sync_records',
      help: 'Requests made durable by one group commit.',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    }),
    appended: new Counter({ name: 'crowsnest_wal_appended_records_total', help: 'Requests appended to the write-ahead log.', labelNames: ['signal'], registers }),
    appendedBytes: new Counter({ name: 'crowsnest_wal_appended_bytes_total', help: 'Bytes appended to the write-ahead log.', labelNames: ['signal'], registers }),
    refused: new Counter({
      name: 'crowsnest_wal_refused_total',
      help: 'Requests the write-ahead log did not take: full (clients got 503 + Retry-After), failed (write or sync error), closed.',
      labelNames: ['reason'],
      registers,
    }),
    segments: new Gauge({
      name: 'crowsnest_wal_segments',
      help: 'Write-ahead log segment files on disk.',
      registers,
      collect() {
        this.set(source.segmentCount);
      },
    }),
    oldestPendingSeconds: new Gauge({
      name: 'crowsnest_wal_oldest_pending_seconds',
      help: 'Age of the oldest acknowledged request not yet in ClickHouse (0 when none is pending).',
      registers,
      collect() {
        this.set(source.oldestPendingSeconds() ?? 0);
      },
    }),
    retries: new Counter({ name: 'crowsnest_wal_insert_retries_total', help: 'Write-ahead log inserts retried while ClickHouse failed.', registers }),
    replays: new Counter({
      name: 'crowsnest_wal_replays_total',
      help: 'Plans found recorded in the ledger at start (a crash between insert and checkpoint) and inserted again with the same deduplication tokens.',
      registers,
    }),
    replayedRows: new Counter({ name: 'crowsnest_wal_replayed_rows_total', help: 'Rows of replayed plans (ClickHouse drops the blocks that had landed).', registers }),
    retriesRecognized: new Counter({
      name: 'crowsnest_wal_retries_recognized_total',
      help: 'Requests whose bytes were already in the write-ahead log (a client retrying after an unanswered attempt): answered, not stored twice.',
      registers,
    }),
    deadLettered: new Counter({
      name: 'crowsnest_wal_dead_lettered_total',
      help: 'Write-ahead log records or bytes moved to its dead/ directory: corrupt (CRC) or undecodable.',
      labelNames: ['reason'],
      registers,
    }),
  };
}
