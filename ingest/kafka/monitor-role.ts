/**
 * The pipeline monitor role: reports the ingest pipeline's state to the process (`PIPELINE_STATUS`, which the
 * query API serves at /api/v1/pipeline). With Kafka it polls the writer group's lag (lag.ts), so a query process
 * of a split deployment reports the whole pipeline, with this process's writer state and the topic check; without Kafka the write-ahead log's writer reports it (ingest/pipeline/wal).
 */
import { KAFKA } from '#config/options.ts';
import { defineRole } from '#core/role.ts';
import { PIPELINE_STATUS } from '#core/services.ts';
import { LagMonitor } from './lag.ts';
import { KAFKA_WRITER_STATUS, kafkaOf } from './shared.ts';

export const pipelineMonitorRole = defineRole({
  name: 'pipeline-monitor',
  summary: 'Reports the ingest pipeline (Kafka lag and rates) to the query API.',
  options: KAFKA,
  async start(ctx) {
    const resources = kafkaOf(ctx);
    if (resources === undefined) {
      // The WAL's writer, when it runs in this process, already reports the pipeline (it started first).
      if (ctx.services.get(PIPELINE_STATUS) === undefined) ctx.services.provide(PIPELINE_STATUS, () => ({ transport: 'wal' }));
      return { close: async () => {} };
    }
    const { kafka, metrics, topics, topicFindings } = await resources;
    // The writer of this process, if any, started before this role and reports its consumer's state.
    const writer = ctx.services.get(KAFKA_WRITER_STATUS);
    const monitor = new LagMonitor(kafka, ctx.config.kafkaGroupId, topics, metrics, ctx.log, { writer, topicFindings });
    monitor.start();
    ctx.services.provide(PIPELINE_STATUS, () => monitor.snapshot());
    return { close: () => monitor.close() };
  },
});
