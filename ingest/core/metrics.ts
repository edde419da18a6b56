/**
 * The platform's own Prometheus metrics, served on `/metrics`. Labels are low-cardinality (signal, table,
 * transport, reason); anything per-tenant or per-service belongs in logs, not labels.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface PlatformMetrics {
  registry: Registry;
  /** Spans, log records or metric points received, by signal and protocol. */
  received: Counter<'signal' | 'protocol'>;
  /** Requests or items rejected, by signal and reason. */
  rejected: Counter<'signal' | 'reason'>;
  /** Rows written to ClickHouse, by table. */
  written: Counter<'table'>;
  /** Failed inserts, by table. */
  writeErrors: Counter<'table'>;
  /** Bytes of accepted requests waiting to be written. */
  queueBytes: Gauge;
  /** Requests waiting to be written. */
  queueDepth: Gauge;
  /** Time to insert one batch. */
  batchSeconds: Histogram<'table'>;
  /** Rows per inserted batch. */
  batchRows: Histogram<'table'>;
}

export function createMetrics(): PlatformMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'crowsnest_' }); // crowsnest_process_cpu_seconds_total, …
  const registers = [registry];
  return {
    registry,
    received: new Counter({ name: 'crowsnest_received_items_total', help: 'Telemetry items received.', labelNames: ['signal', 'protocol'], registers }),
    rejected: new Counter({ name: 'crowsnest_rejected_total', help: 'Requests or items rejected.', labelNames: ['signal', 'reason'], registers }),
    written: new Counter({ name: 'crowsnest_written_rows_total', help: 'Rows written to ClickHouse.', labelNames: ['table'], registers }),
    writeErrors: new Counter({ name: 'crowsnest_write_errors_total', help: 'Failed ClickHouse inserts.', labelNames: ['table'], registers }),
    queueBytes: new Gauge({ name: 'crowsnest_queue_bytes', help: 'Bytes of accepted requests not yet written.', registers }),
    queueDepth: new Gauge({ name: 'crowsnest_queue_depth', help: 'Accepted requests not yet written.', registers }),
    batchSeconds: new Histogram({
      name: 'crowsnest_batch_seconds',
      help: 'Time to insert one batch into ClickHouse.',
      labelNames: ['table'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    batchRows: new Histogram({
      name: 'crowsnest_batch_rows',
      help: 'Rows per inserted batch.',
      labelNames: ['table'],
      buckets: [1, 10, 100, 1000, 10_000, 100_000, 1_000_000],
      registers,
    }),
  };
}
