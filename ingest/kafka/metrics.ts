/**
 * Kafka pipeline metrics, registered in the platform registry: produce/consume rates, consumer lag per
 * partition, dead-lettered messages and writer retries. Partition is a label: partition counts are small.
 */
import { Counter, Gauge } from 'prom-client';
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
  lag: Gauge<'topic' | 'partition'>;
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
    lag: new Gauge({ name: 'crowsnest_kafka_consumer_lag', help: 'Messages not yet committed by the writers, per partition.', labelNames: ['topic', 'partition'], registers }),
  };
}
