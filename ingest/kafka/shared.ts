/**
 * The Kafka client of a process, shared by its roles: one client, one set of Kafka metrics on the process
 * registry, and the platform's topics ensured once, whichever Kafka-using role starts first.
 */
import type { Kafka } from 'kafkajs';
import { type RoleContext, ServiceKey } from '#core/role.ts';
import { type KafkaConfig, type Topics, createKafka, ensureTopics, topicsOf } from './client.ts';
import { type KafkaMetrics, createKafkaMetrics } from './metrics.ts';

export interface KafkaResources {
  kafka: Kafka;
  metrics: KafkaMetrics;
  topics: Topics;
}

const KAFKA = new ServiceKey<Promise<KafkaResources>>('kafka');

/** True when the config names brokers (the Kafka transport is on). */
export function kafkaConfigured(config: KafkaConfig): boolean {
  return (config.kafkaBrokers?.length ?? 0) > 0;
}

/** The process's Kafka resources, created on first use; undefined when Kafka is not configured. */
export function kafkaOf(ctx: RoleContext<KafkaConfig>): Promise<KafkaResources> | undefined {
  if (!kafkaConfigured(ctx.config)) return undefined;
  const { config } = ctx;
  return ctx.services.shared(KAFKA, async () => {
    const kafka = createKafka(config, ctx.processName, ctx.log);
    const topics = topicsOf(config);
    await ensureTopics(kafka, topics, config.kafkaPartitions, config.kafkaReplicationFactor, ctx.log);
    return { kafka, metrics: createKafkaMetrics(ctx.metrics), topics };
  });
}
