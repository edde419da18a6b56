/**
 * The writer role: moves accepted telemetry into ClickHouse.
 * - With Kafka: a consumer group member that plans, inserts and commits per partition (ingest/kafka/writer-role.ts).
 * - Without: the write-ahead log in `<data-dir>/wal` (wal/), which the gateway of the same process appends to
 *   (`LOCAL_TRANSPORT`) and this role's writer inserts from; it also reports the pipeline (`PIPELINE_STATUS`). A
 *   writer alone without Kafka has nothing to read, and the CLI refuses it.
 */
import { join } from 'node:path';
import { KAFKA, STORAGE, WRITER } from '#config/options.ts';
import { LOG_TAP, LogTap } from '#core/log-tap.ts';
import { defineRole } from '#core/role.ts';
import { PIPELINE_STATUS } from '#core/services.ts';
import { loadCodecs } from '#storage/codecs.ts';
import { startKafkaWriter } from '../kafka/writer-role.ts';
import { kafkaOf } from '../kafka/shared.ts';
import { LOCAL_TRANSPORT } from './transport.ts';
import { WriteAheadLog } from './wal/log.ts';
import { createWalMetrics } from './wal/metrics.ts';
import { WalTransport } from './wal/transport.ts';
import { WalWriter } from './wal/writer.ts';

export const writerRole = defineRole({
  name: 'writer',
  summary: 'Writes telemetry into ClickHouse: a Kafka consumer group member, or from the write-ahead log the gateway of the same process fills.',
  options: { ...STORAGE, ...KAFKA, ...WRITER },
  async start(ctx) {
    const { config } = ctx;
    const store = await ctx.store();
    const codecs = await loadCodecs(store, config.clickhouseDatabase);
    const kafka = kafkaOf(ctx);
    // The live tail of this process's query API hears of inserted log records through this tap (query/tail).
    const tap = new LogTap('writer', undefined, (err) => ctx.log.error({ err }, 'a log tap listener failed'));
    ctx.services.provide(LOG_TAP, tap);
    if (kafka !== undefined) return startKafkaWriter(ctx, await kafka, store, codecs, tap);

    const log = ctx.log.child({ part: 'wal' });
    // The gauges read the log at each scrape (after it is open); the log reports its syncs and dead letters to the counters.
    const wmetrics = createWalMetrics(ctx.metrics, {
      get segmentCount() {
        return wal.segmentCount;
      },
      oldestPendingSeconds: () => wal.oldestPendingSeconds(),
    });
    const wal = WriteAheadLog.open({
      dir: join(config.dataDir, 'wal'),
      maxBytes: config.walMaxBytes,
      segmentBytes: config.walSegmentBytes,
      onSync: (seconds, records) => {
        wmetrics.syncSeconds.observe(seconds);
        wmetrics.syncRecords.observe(records);
      },
      onDeadLetter: () => wmetrics.deadLettered.inc({ reason: 'corrupt' }),
      onRetryRecognized: () => wmetrics.retriesRecognized.inc(),
      warn: (fields, msg) => log.warn(fields, msg),
    });
    const writer = new WalWriter(wal, store, { database: config.clickhouseDatabase, codecs, maxRows: config.batchMaxRows, maxAgeMs: config.batchMaxAgeMs, tap }, ctx.metrics, wmetrics, log);
    try {
      await writer.start();
    } catch (e) {
      await wal.close();
      throw e;
    }
    log.info({ dir: wal.dir, pendingBytes: wal.pendingBytes, segments: wal.segmentCount }, 'write-ahead log open');
    ctx.services.provide(LOCAL_TRANSPORT, new WalTransport(wal, ctx.metrics, wmetrics, log));
    ctx.services.provide(PIPELINE_STATUS, () => writer.status());
    return {
      notReady: () => writer.notReady(),
      async close() {
        await writer.close();
        await wal.close();
      },
    };
  },
});
