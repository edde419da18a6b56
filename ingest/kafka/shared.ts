/**
 * The Kafka client of a process, shared by its roles: one client, one set of Kafka metrics on the process
 * registry, and the platform's topics ensured once, whichever Kafka-using role starts first.
 */
import type { Kafka } from 'kafkajs';
import type { TopicFinding, WriterStatus } from '#core/pipeline-status.ts';
import { type RoleContext, ServiceKey } from '#core/role.ts';
import { type KafkaConfig, type Topics, createKafka, ensureTopics, topicsOf } from './client.ts';
import { type KafkaMetrics, createKafkaMetrics } from './metrics.ts';

export interface KafkaResources {
  kafka: Kafka;
  metrics: KafkaMetrics;
  topics: Topics;
  /** Existing topics whose settings differ from what the platform creates (checked once, at start). */
  topicFindings: TopicFinding[];
}

const KAFKA = new ServiceKey<Promise<KafkaResources>>('kafka');

/** The Kafka writer's state now, provided by the writer role, read by the pipeline monitor of the same process. */
export const KAFKA_WRITER_STATUS = new ServiceKey<() => WriterStatus>('kafka-writer-status');

/** True when the config names brokers (the Kafka transport is on). */
export function kafkaConfigured(config: KafkaConfig): boolean {
  return (config.kafkaBrokers?.length ?? 0) > 0;
}

/** The process's Kafka resources, created on first use; undefined when Kafka is not configured. */
export function kafkaOf(ctx: RoleContext<KafkaConfig>): Promise<KafkaResources> | undefined {
  if (!kafkaConfigured(ctx.config)) return undefined;
  const { config } = ctx;
  return ctx.services.shared(KAFKA, async () => {
    const kafka = await createKafka(config, ctx.processName, ctx.log);
    const topics = topicsOf(config);
    const topicFindings = await ensureTopics(kafka, topics, config.kafkaPartitions, config.kafkaReplicationFactor, ctx.log);
    return { kafka, metrics: createKafkaMetrics(ctx.metrics), topics, topicFindings };
  });
}
