/**
 * The writer role's Kafka half: a consumer group member that plans, inserts and commits per partition
 * (writer.ts). The role (ingest/pipeline/role.ts) calls this when brokers are configured.
 */
import type { KAFKA, STORAGE, WRITER } from '#config/options.ts';
import type { ConfigOf } from '#config/spec.ts';
import type { LogTap } from '#core/log-tap.ts';
import type { RoleContext, RunningRole } from '#core/role.ts';
import type { Store } from '#storage/client.ts';
import type { Codecs } from '#storage/codecs.ts';
import { KAFKA_WRITER_STATUS, type KafkaResources } from './shared.ts';
import { KafkaWriter } from './writer.ts';

type WriterConfig = ConfigOf<typeof STORAGE & typeof KAFKA & typeof WRITER>;

export async function startKafkaWriter(ctx: RoleContext<WriterConfig>, resources: KafkaResources, store: Store, codecs: Codecs, tap?: LogTap): Promise<RunningRole> {
  const { config } = ctx;
  const { kafka, metrics: kmetrics, topics } = resources;
  const writer = new KafkaWriter(
    kafka,
    store,
    { database: config.clickhouseDatabase, codecs, groupId: config.kafkaGroupId, topics, maxRows: config.batchMaxRows, maxAgeMs: config.kafkaBatchMaxAgeMs, tap },
    ctx.metrics,
    kmetrics,
    ctx.log,
  );
  await writer.start();
  ctx.services.provide(KAFKA_WRITER_STATUS, () => writer.status());
  // Not ready while its consumer is restarting after a crash, so /readyz (and Kubernetes) show it with the reason.
  return { notReady: () => writer.notReady(), close: () => writer.close() };
}
