/**
 * The Kafka log tap: how a query process apart from the writers (`crowsnest query --clickhouse-url …
 * --kafka-brokers …`) hears of new log records for its live tail without asking ClickHouse.
 *
 * A role of its own, composed by the CLI before the query role when Kafka is configured; it provides the process's
 * `LOG_TAP` (#core/log-tap.ts), so the query role never imports Kafka code. While at least one viewer tails (the
 * tap's lifecycle: started by the first subscription, stopped when the last one leaves, after the hub's linger),
 * a consumer reads the logs topic:
 *   - in a consumer group of its own, fresh at every start (`<client id>-tail-<host>-<pid>-<random>`): never the
 *     writers' group, so it takes no partition from them and moves none of their offsets;
 *   - from the latest offsets (a new group has no committed offset, and `fromBeginning` is off), never
 *     committing: a tail shows what arrives from now on, and an abandoned group holds no offsets to expire;
 *   - publishing each message's bytes (OTLP ExportLogsServiceRequest protobuf, as the gateway produced it) to the
 *     tap; the query role decodes them with the writers' decoder (#otlp), once per process. Messages whose record
 *     batch could not be decompressed (codecs.ts) are skipped: the writers dead-letter them.
 * An idle query process runs no consumer: it costs Kafka nothing. Every query process has its own group, so each
 * reads every partition; fetches are bounded (1 MiB per partition, 8 MiB per fetch).
 *
 * A line is shown once Kafka acknowledged it (the gateway produces with acks=all), which is before the writers
 * insert it (within --kafka-batch-max-age-ms under load, 200 ms after the load stops): the tail can run ahead of
 * the search by that much, never behind it. The tap becomes live (the viewer's `ready` event) after its first
 * fetch, once the consumer has its partitions and their latest offsets.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Consumer } from 'kafkajs';
import { KAFKA } from '#config/options.ts';
import { LOG_TAP, LogTap, type LogTapLifecycle } from '#core/log-tap.ts';
import type { Logger } from '#core/log.ts';
import { defineRole } from '#core/role.ts';
import { undecodableError } from './codecs.ts';
import { type KafkaResources, kafkaOf } from './shared.ts';

/** Wait before a fresh consumer replaces one that crashed for good while viewers still tail. */
const RESTART_DELAY_MS = 5000;
/** Longest wait for the first fetch before the tap reports itself live anyway (the consumer keeps trying). */
const FIRST_FETCH_WAIT_MS = 15_000;

/** The consumer's group: unique per process and per start. */
export function tailGroupId(clientId: string): string {
  return `${clientId}-tail-${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

class KafkaTapConsumer implements LogTapLifecycle {
  #consumer: Consumer | undefined;
  #restart: NodeJS.Timeout | undefined;
  tap: LogTap | undefined;

  constructor(
    private readonly resources: KafkaResources,
    private readonly clientId: string,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const { kafka, topics } = this.resources;
    const groupId = tailGroupId(this.clientId);
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 3000,
      maxBytesPerPartition: 1024 * 1024,
      maxBytes: 8 * 1024 * 1024,
      maxWaitTimeInMs: 500,
    });
    this.#consumer = consumer;
    const fetched = new Promise<void>((resolve) => {
      const remove = consumer.on(consumer.events.FETCH, () => {
        remove();
        resolve();
      });
    });
    consumer.on(consumer.events.CRASH, (e) => {
      if (e.payload.restart || this.#consumer !== consumer) return; // kafkajs restarts it itself
      this.log.warn({ err: e.payload.error, groupId }, 'live tail Kafka consumer crashed; starting a fresh one');
      this.#restart = setTimeout(() => {
        if (this.#consumer !== consumer) return;
        void consumer.disconnect().catch(() => undefined);
        this.start().catch((err: unknown) => this.log.warn({ err }, 'live tail Kafka consumer failed to start'));
      }, RESTART_DELAY_MS);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topics.bySignal.logs], fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const requests: Uint8Array[] = [];
        for (const m of batch.messages) if (m.value && undecodableError(m) === undefined) requests.push(m.value);
        this.tap?.publish(requests);
        await Promise.resolve();
      },
    });
    this.log.info({ groupId, topic: topics.bySignal.logs }, 'live tail reading the logs topic');
    // Live once it fetched; a broker that does not answer must not hold the tap's stop behind this start.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([fetched, new Promise<void>((r) => (timer = setTimeout(r, FIRST_FETCH_WAIT_MS)))]);
    clearTimeout(timer);
  }

  async stop(): Promise<void> {
    clearTimeout(this.#restart);
    const consumer = this.#consumer;
    this.#consumer = undefined;
    await consumer?.disconnect();
    this.log.info('live tail stopped reading the logs topic');
  }
}

export const kafkaLogTapRole = defineRole({
  name: 'kafka-log-tap',
  summary: "Feeds the query API's live tail from the Kafka logs topic, while someone tails (query process apart from the writers).",
  options: KAFKA,
  async start(ctx) {
    const resources = kafkaOf(ctx);
    if (resources === undefined) return { close: async () => {} };
    const lifecycle = new KafkaTapConsumer(await resources, ctx.config.kafkaClientId, ctx.log);
    const tap = new LogTap('kafka', lifecycle, (err) => ctx.log.warn({ err }, 'live tail Kafka tap failed'));
    lifecycle.tap = tap;
    ctx.services.provide(LOG_TAP, tap);
    return { close: () => tap.close() };
  },
});
