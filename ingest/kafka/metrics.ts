/**
 * Kafka pipeline metrics, registered in the platform registry: produce/consume rates, consumer lag per
 * partition, dead-lettered messages, writer retries and replays, writer consumer crashes and restarts.
 * Partition is a label: partition counts are small.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PlatformMetrics } from '#core/metrics.ts';

export interface KafkaMetrics {
  produced: Counter<'topic'>;
  produceErrors: Counter<'topic'>;
  /** Produce calls: requests that arrive while calls are in flight share the next one. */
  produceCalls: Counter;
  /** Accepted requests waiting for a produce call. */
  produceQueue: Gauge;
  consumed: Counter<'topic'>;
  deadLettered: Counter<'topic'>;
  retries: Counter<'topic'>;
  /** Plans a writer found recorded in the ledger and so inserted again with the same deduplication tokens. */
  replays: Counter<'topic'>;
  /** Rows of those replayed plans (ClickHouse drops the blocks that had landed before). */
  replayedRows: Counter<'topic'>;
  lag: Gauge<'topic' | 'partition'>;
  /** Writer consumers that crashed, and those started again after a crash. */
  consumerCrashes: Counter;
  consumerRestarts: Counter;
  /** Requests the gateway recognised as retries of one Kafka had acknowledged within the window (not produced again). */
  retriesRecognized: Counter<'topic'>;
  /** Acknowledged requests the gateway remembers, and those forgotten early because the bound was reached. */
  recentRequests: Gauge;
  recentEvicted: Counter;
}

export function createKafkaMetrics(platform: PlatformMetrics): KafkaMetrics {
  const registers = [platform.registry];
  return {
    produced: new Counter({ name: 'crowsnest_kafka_produced_messages_total', help: 'Messages acknowledged by Kafka.', labelNames: ['topic'], registers }),
    produceCalls: new Counter({ name: 'crowsnest_kafka_produce_calls_total', help: 'Produce calls sent to Kafka (each carries one or more accepted requests).', registers }),
    produceQueue: new Gauge({ name: 'crowsnest_kafka_produce_queue_requests', help: 'Accepted requests waiting for a produce call.', registers }),
    produceErrors: new Counter({ name: 'crowsnest_kafka_produce_errors_total', help: 'Failed produce requests.', labelNames: ['topic'], registers }),
    consumed: new Counter({ name: 'crowsnest_kafka_consumed_messages_total', help: 'Messages consumed by writers.', labelNames: ['topic'], registers }),
    deadLettered: new Counter({ name: 'crowsnest_kafka_dlq_messages_total', help: 'Undecodable messages sent to the dead-letter topic.', labelNames: ['topic'], registers }),
    retries: new Counter({ name: 'crowsnest_writer_retries_total', help: 'Writer flush retries (ClickHouse or Kafka unavailable).', labelNames: ['topic'], registers }),
    replays: new Counter({
      name: 'crowsnest_kafka_replays_total',
      help: 'Batches replayed from the plan ledger after a writer crash or a lost commit (inserted again with the same deduplication tokens).',
      labelNames: ['topic'],
      registers,
    }),
    replayedRows: new Counter({ name: 'crowsnest_kafka_replayed_rows_total', help: 'Rows of replayed batches.', labelNames: ['topic'], registers }),
    consumerCrashes: new Counter({ name: 'crowsnest_kafka_consumer_crashes_total', help: 'Writer consumers that crashed (the writer is not ready until a fresh consumer fetches).', registers }),
    consumerRestarts: new Counter({ name: 'crowsnest_kafka_consumer_restarts_total', help: 'Writer consumers started again after a crash.', registers }),
    retriesRecognized: new Counter({
      name: 'crowsnest_kafka_retries_recognized_total',
      help: 'Requests recognised (by SHA-256) as retries of one Kafka acknowledged within the retry window, answered without producing them again.',
      labelNames: ['topic'],
      registers,
    }),
    recentRequests: new Gauge({ name: 'crowsnest_kafka_recent_requests', help: 'Acknowledged requests the gateway remembers to recognise their retries.', registers }),
    recentEvicted: new Counter({ name: 'crowsnest_kafka_recent_requests_evicted_total', help: 'Remembered requests forgotten before the retry window ended because the bound was reached.', registers }),
    lag: new Gauge({ name: 'crowsnest_kafka_consumer_lag', help: 'Messages not yet committed by the writers, per partition.', labelNames: ['topic', 'partition'], registers }),
  };
}

const DUPLICATES = 'crowsnest_clickhouse_duplicated_inserted_blocks';

/**
 * ClickHouse's own evidence that replays are harmless: its `DuplicatedInsertedBlocks` event, the blocks it dropped
 * because their deduplication token had been inserted before. Read from `system.events` at each scrape (with
 * embedded chDB, this process's engine; with a server, the server since its start). A scrape while ClickHouse is
 * away keeps the last reading rather than failing /metrics.
 */
export function registerDuplicatesGauge(registry: Registry, read: () => Promise<number>): void {
  if (registry.getSingleMetric(DUPLICATES)) return; // one writer per process; a second one reads the same engine
  new Gauge({
    name: DUPLICATES,
    help: 'Insert blocks ClickHouse dropped as duplicates of earlier inserts (system.events DuplicatedInsertedBlocks): replayed Kafka batches land here.',
    registers: [registry],
    async collect() {
      try {
        this.set(await withTimeout(read(), 2000));
      } catch {
        // Keep the last value: /metrics must answer while ClickHouse is down.
      }
    },
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
