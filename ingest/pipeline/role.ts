/**
 * The writer role: moves accepted telemetry into ClickHouse.
 * - With Kafka: a consumer group member (ingest/kafka/writer.ts) that plans, inserts and commits per partition.
 * - Without: the in-process batch writer (writer.ts), which the gateway of the same process feeds
 *   (`BATCH_WRITER`); a writer alone without Kafka has nothing to read, and the CLI refuses it.
 */
import { KAFKA, STORAGE, WRITER } from '#config/options.ts';
import { defineRole } from '#core/role.ts';
import { loadCodecs } from '#storage/codecs.ts';
import { startKafkaWriter } from '../kafka/writer-role.ts';
import { kafkaOf } from '../kafka/shared.ts';
import { BATCH_WRITER } from './transport.ts';
import { BatchWriter } from './writer.ts';

export const writerRole = defineRole({
  name: 'writer',
  summary: 'Writes telemetry into ClickHouse: a Kafka consumer group member, or in-process behind the gateway.',
  options: { ...STORAGE, ...KAFKA, ...WRITER },
  async start(ctx) {
    const { config } = ctx;
    const store = await ctx.store();
    const codecs = await loadCodecs(store, config.clickhouseDatabase);
    const kafka = kafkaOf(ctx);
    if (kafka !== undefined) return startKafkaWriter(ctx, await kafka, store, codecs);
    const writer = new BatchWriter(store, { database: config.clickhouseDatabase, codecs, maxRows: config.batchMaxRows, maxAgeMs: config.batchMaxAgeMs }, ctx.metrics, ctx.log);
    ctx.services.provide(BATCH_WRITER, writer);
    return { close: () => writer.close() };
  },
});
