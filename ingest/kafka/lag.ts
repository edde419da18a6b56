/**
 * Polls Kafka for the writers' committed offsets and each partition's end offset, publishes the difference as
 * `crowsnest_kafka_consumer_lag{topic,partition}`, and keeps a snapshot for `GET /api/v1/pipeline`. Any role that
 * knows the brokers can run it: it only reads group offsets.
 *
 * Rates come in two kinds. Per topic, from Kafka's offsets between two polls: messages appended by every producer
 * (all gateways, or a Collector writing to the same topic) and messages committed by the whole writer group. Those
 * are the pipeline's rates wherever the snapshot is read; in a split deployment the query process produces and
 * consumes nothing itself. `totals` and `rates` are this process's own counters, for the all-in-one case.
 */
import type { Admin, Kafka } from 'kafkajs';
import type { Counter } from 'prom-client';
import type { Logger } from 'pino';
import type { KafkaPipelineStatus, TopicFinding, WriterStatus } from '#core/pipeline-status.ts';
import type { Topics } from './client.ts';
import type { KafkaMetrics } from './metrics.ts';

async function total(counter: Counter<'topic'>): Promise<number> {
  return (await counter.get()).values.reduce((sum, v) => sum + v.value, 0);
}

/** What the monitor reports beside its readings: the writer of its process and the topic check at start. */
export interface MonitorContext {
  /** The Kafka writer of this process; undefined where none runs. */
  writer?: (() => WriterStatus) | undefined;
  topicFindings?: TopicFinding[];
}

type Reading = Omit<KafkaPipelineStatus, 'writer' | 'topicFindings'>;

export class LagMonitor {
  #admin: Admin | undefined;
  #timer: NodeJS.Timeout | undefined;
  #last = { at: 0, produced: 0, consumed: 0 };
  /** Per topic, the summed end and committed offsets of the last poll. */
  readonly #offsets = new Map<string, { at: number; end: bigint; committed: bigint }>();
  #snapshot: Reading;

  constructor(
    private readonly kafka: Kafka,
    private readonly groupId: string,
    private readonly topics: Topics,
    private readonly kmetrics: KafkaMetrics,
    private readonly log: Logger,
    private readonly context: MonitorContext = {},
    private readonly intervalMs = 5000,
  ) {
    this.#snapshot = {
      transport: 'kafka',
      groupId,
      updatedAt: null,
      error: null,
      topics: [],
      totals: { produced: 0, consumed: 0, deadLettered: 0, writerRetries: 0 },
      rates: { produced: 0, consumed: 0 },
    };
  }

  start(): void {
    const tick = () => {
      this.poll().catch((err: unknown) => {
        // Keep the last reading but say it is not current; reconnect on the next poll (a broker restart
        // leaves the admin client's connections dead).
        this.#snapshot = { ...this.#snapshot, error: (err as Error).message };
        this.log.debug({ err }, 'lag poll failed');
        const admin = this.#admin;
        this.#admin = undefined;
        admin?.disconnect().catch(() => undefined);
      });
    };
    tick();
    this.#timer = setInterval(tick, this.intervalMs);
    this.#timer.unref();
  }

  snapshot(): KafkaPipelineStatus {
    return { ...this.#snapshot, writer: this.context.writer?.() ?? null, topicFindings: this.context.topicFindings ?? [] };
  }

  async poll(): Promise<KafkaPipelineStatus> {
    if (!this.#admin) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.#admin = admin;
    }
    const admin = this.#admin;
    const names = Object.values(this.topics.bySignal);
    const committed = await admin.fetchOffsets({ groupId: this.groupId, topics: names });
    const topics: KafkaPipelineStatus['topics'] = [];
    const now = Date.now();
    for (const topic of names) {
      const ends = await admin.fetchTopicOffsets(topic);
      const group = committed.find((c) => c.topic === topic)?.partitions ?? [];
      const partitions = ends.map((end) => {
        const c = group.find((g) => g.partition === end.partition)?.offset ?? '-1';
        // No commit yet: everything from the start of the log is lag.
        const from = BigInt(c) >= 0n ? BigInt(c) : BigInt(end.low);
        const lag = Number(BigInt(end.high) - from);
        this.kmetrics.lag.set({ topic, partition: String(end.partition) }, lag);
        return { partition: end.partition, endOffset: end.high, committedOffset: BigInt(c) >= 0n ? c : null, lag };
      });
      partitions.sort((a, b) => a.partition - b.partition);
      const end = ends.reduce((sum, e) => sum + BigInt(e.high), 0n);
      // A partition without a commit counts from the start of its log, as its lag does.
      const committedSum = partitions.reduce((sum, p) => sum + (BigInt(p.endOffset) - BigInt(p.lag)), 0n);
      const prev = this.#offsets.get(topic);
      this.#offsets.set(topic, { at: now, end, committed: committedSum });
      const per = (delta: bigint) => (prev && now > prev.at ? Math.max(0, Number(delta) / ((now - prev.at) / 1000)) : null);
      topics.push({
        topic,
        lag: partitions.reduce((s, p) => s + p.lag, 0),
        producedPerSecond: per(end - (prev?.end ?? 0n)),
        committedPerSecond: per(committedSum - (prev?.committed ?? 0n)),
        partitions,
      });
    }
    const produced = await total(this.kmetrics.produced);
    const consumed = await total(this.kmetrics.consumed);
    const seconds = this.#last.at ? (now - this.#last.at) / 1000 : 0;
    const rates = seconds > 0 ? { produced: (produced - this.#last.produced) / seconds, consumed: (consumed - this.#last.consumed) / seconds } : { produced: 0, consumed: 0 };
    this.#last = { at: now, produced, consumed };
    this.#snapshot = {
      transport: 'kafka',
      groupId: this.groupId,
      updatedAt: new Date(now).toISOString(),
      error: null,
      topics,
      totals: { produced, consumed, deadLettered: await total(this.kmetrics.deadLettered), writerRetries: await total(this.kmetrics.retries) },
      rates,
    };
    return this.snapshot();
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#admin?.disconnect();
  }
}
