/**
 * The Kafka → ClickHouse writer (a consumer group; writers scale out up to the number of partitions).
 *
 * Per partition it builds a *plan*: a run of consecutive messages [first, last], decoded into rows per table,
 * and flushes it when it holds `maxRows` rows or is `maxAgeMs` old, in the four steps of ../pipeline/plan.ts that
 * the write-ahead log's writer follows too: ledger, dead letters (here the dead-letter topic: original bytes,
 * error and source in headers), inserts with `topic:partition:first-last:table` tokens, commit of last + 1.
 * Exactly-once rows under at-least-once delivery: a writer that starts a plan at offset `a` first asks the
 * ledger whether a plan starting at `a` exists (a crash after step 1). If so it replays exactly that range,
 * so its inserts carry the same tokens and ClickHouse drops the ones that already landed. Unlike the WAL, a
 * partition changes hands at rebalances, so the ledger is asked at the start of every plan.
 *
 * A due plan is flushed in the background while the partition's next plan fills: consuming stopped for every
 * insert before, which halved throughput. Per partition at most one flush runs, and the next waits for it, so
 * ledger rows and commits stay in offset order and memory stays bounded (one plan filling, one flushing). A
 * message that does not continue the flushing plan (a re-delivery after a rebalance) waits for that flush to
 * finish, so the ledger already holds its range when the new plan looks it up.
 *
 * ClickHouse unavailable: the partition is paused and the step that needs ClickHouse (the ledger lookup that
 * starts a plan, or steps 1–3) is retried with capped exponential backoff (#core/retry.ts), until it succeeds or
 * the writer stops; each retry is counted. Nothing is committed until the insert succeeds, so lag grows and then
 * drains.
 *
 * Replays are counted (`crowsnest_kafka_replays_total`, `crowsnest_kafka_replayed_rows_total`), and ClickHouse's
 * own count of the blocks it dropped as duplicates is on /metrics beside them
 * (`crowsnest_clickhouse_duplicated_inserted_blocks`), so a replay that did not deduplicate would show.
 *
 * A record batch that can never be decompressed arrives as records marked undecodable (codecs.ts): they are
 * dead-lettered like any undecodable message, and the partition moves on.
 *
 * The consumer is supervised: when it crashes (kafkajs gives up on a broker, a fetch it cannot decode), kafkajs
 * is not left to restart it, since it would not for most errors and the partitions would stop for good. The
 * writer reports the crash (`notReady`, `status`, `crowsnest_kafka_consumer_crashes_total`) and starts a fresh
 * consumer in the same group with capped exponential backoff (#core/retry.ts) until one fetches again. Plans of
 * partitions the group then assigns elsewhere are dropped, as on any rebalance: nothing of them was committed.
 */
import { setMaxListeners } from 'node:events';
import { type Consumer, type EachBatchPayload, type Kafka, type KafkaMessage, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { PlatformMetrics } from '#core/metrics.ts';
import type { LogTap } from '#core/log-tap.ts';
import type { WriterStatus } from '#core/pipeline-status.ts';
import { attempt, retry, unwrap } from '#core/retry.ts';
import { OtlpDecodeError } from '#otlp/decode.ts';
import { StagedTables, findPlannedRange, recordPlannedRange } from '../pipeline/plan.ts';
import type { Codecs } from '#storage/codecs.ts';
import type { Store } from '#storage/client.ts';
import { sql } from '#storage/sql.ts';
import { type Topics, signalOfTopic } from './client.ts';
import { undecodableError } from './codecs.ts';
import { type KafkaMetrics, registerDuplicatesGauge } from './metrics.ts';
import { JavaCompatiblePartitioner } from './partitioner.ts';

export interface KafkaWriterOptions {
  database: string;
  codecs: Codecs;
  groupId: string;
  topics: Topics;
  maxRows: number;
  maxAgeMs: number;
  /** Plans are also flushed once no partition has had a new message for this long (the load stopped). @default 200 */
  idleMs?: number;
  /** Partitions processed at once by this writer. @default 3 */
  concurrency?: number;
  /** Longest wait between insert retries. @default 30000 */
  maxBackoffMs?: number;
  /** Longest wait between attempts to start a fresh consumer after a crash. @default 10000 */
  maxRestartBackoffMs?: number;
  /** Told of every plan's log requests once they are inserted, while anyone tails (#core/log-tap.ts). */
  tap?: LogTap | undefined;
}

/** A consumer and what became of it: its first fetch after `run`, or its crash. */
interface Watched {
  consumer: Consumer;
  fetched: Promise<void>;
  crashed: Promise<Error>;
}

interface Plan {
  topic: string;
  partition: number;
  first: bigint;
  last: bigint;
  /** Set when replaying a plan found in the ledger: the plan must end exactly here. */
  replayUntil: bigint | undefined;
  /** Whether the ledger already held this plan when it started (a replay), rather than this writer recording it. */
  replayed: boolean;
  /** Each table's rows, encoded into Native blocks as they arrive. */
  tables: StagedTables;
  dead: { message: KafkaMessage; error: string }[];
  /** The plan's log requests, kept only while the log tap has listeners; published once inserted. */
  logs: Uint8Array[];
  startedAt: number;
}

const key = (topic: string, partition: number) => `${topic}:${partition}`;

async function discard(plan: Plan): Promise<void> {
  await plan.tables.discard();
}

export class KafkaWriter {
  /** The current consumer, watched: replaced by a fresh one after a crash. */
  #watched: Watched;
  readonly #producer: Producer;
  readonly #plans = new Map<string, Plan>();
  /** Per partition, the plan being flushed in the background and when its flush (and commit) ends. */
  readonly #flushing = new Map<string, { plan: Plan; done: Promise<void> }>();
  /** Per partition, the last offset handed to a plan; older offsets seen again are skipped until a rebalance. */
  readonly #handled = new Map<string, bigint>();
  /** One chain per partition: eachBatch and the age timer never touch a partition's plan at once. */
  readonly #locks = new Map<string, Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  /** When the last batch that carried messages was done with, and how many batches are being worked on. */
  #lastMessageAt = 0;
  #activeBatches = 0;
  /** Aborted by close(): retry loops stop waiting, and plans flushed from then on get one attempt. */
  readonly #stopping = new AbortController();
  readonly #status: WriterStatus = { state: 'starting', error: null, restarts: 0 };
  /** The restart loop after a crash, while it runs. */
  #recovery: Promise<void> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly store: Store,
    private readonly opts: KafkaWriterOptions,
    private readonly metrics: PlatformMetrics,
    private readonly kmetrics: KafkaMetrics,
    private readonly log: Logger,
  ) {
    this.#watched = this.#newConsumer();
    this.#producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false, createPartitioner: JavaCompatiblePartitioner });
    // Every partition's retry loop waits on this signal: past ten, Node would warn of a listener leak.
    setMaxListeners(0, this.#stopping.signal);
    registerDuplicatesGauge(metrics.registry, async () => {
      const [r] = await store.rows<{ n: string }>(sql`SELECT sum(value) AS n FROM system.events WHERE event = 'DuplicatedInsertedBlocks'`);
      return Number(r?.n ?? 0);
    });
  }

  /** A consumer of the writer group, watched for its first fetch and its crash. */
  #newConsumer(): Watched {
    const consumer = this.kafka.consumer({
      groupId: this.opts.groupId,
      // After a broker restart the coordinator keeps the old member until its session expires, and a rejoin
      // waits for that: shorter timeouts mean faster recovery. A writer that overruns them while retrying
      // ClickHouse is only removed from the group; its uncommitted range is replayed from the ledger.
      sessionTimeout: 15_000,
      rebalanceTimeout: 20_000,
      heartbeatInterval: 3000,
      maxBytesPerPartition: 16 * 1024 * 1024,
      maxBytes: 64 * 1024 * 1024,
      // Restarts after a crash are the writer's own (#recover): a fresh consumer, with backoff, for every error.
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000, restartOnFailure: () => Promise.resolve(false) },
    });
    // A rebalance takes partitions away: their unflushed plans are dropped (nothing of them was committed,
    // and whoever owns the partition next replays from the committed offset).
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      const assigned = new Set(Object.entries(e.payload.memberAssignment).flatMap(([t, ps]) => ps.map((p) => key(t, p))));
      // Partitions are read again from their committed offsets: what was handled may legitimately come back.
      this.#handled.clear();
      for (const [k, plan] of this.#plans) {
        if (assigned.has(k)) continue;
        this.#plans.delete(k);
        // Behind the partition's lock: a flush of this plan may still be reading its staged file.
        this.#withLock(k, () => discard(plan)).catch((err: unknown) => this.log.warn({ err, partition: k }, 'discarding a dropped plan failed'));
      }
      this.log.info({ assignment: e.payload.memberAssignment }, 'partitions assigned');
    });
    const fetched = new Promise<void>((resolve) => {
      const remove = consumer.on(consumer.events.FETCH, () => {
        remove();
        resolve();
      });
    });
    const crashed = new Promise<Error>((resolve) => {
      consumer.on(consumer.events.CRASH, (e) => {
        const error = e.payload.error;
        if (this.#stopping.signal.aborted) return;
        this.kmetrics.consumerCrashes.inc();
        this.log.error({ err: error }, 'Kafka consumer crashed; starting a fresh one');
        Object.assign(this.#status, { state: 'restarting', error: error.message });
        resolve(error);
      });
    });
    return { consumer, fetched, crashed };
  }

  get #consumer(): Consumer {
    return this.#watched.consumer;
  }

  /** The consumer's state, for /api/v1/pipeline. */
  status(): WriterStatus {
    return { ...this.#status };
  }

  /** Why the writer is not ready (its consumer crashed and no fresh one fetched yet), or undefined. */
  notReady(): string | undefined {
    const { state, error } = this.#status;
    if (state === 'running') return undefined;
    return state === 'starting' ? 'Kafka writer starting' : `Kafka consumer crashed (${error ?? 'unknown error'}); restarting`;
  }

  async #run(consumer: Consumer): Promise<void> {
    await consumer.connect();
    await consumer.subscribe({ topics: Object.values(this.opts.topics.bySignal), fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.opts.concurrency ?? 3,
      eachBatch: (payload) => this.#eachBatch(payload),
    });
  }

  /** Restarts the consumer when `watched` crashes. */
  #supervise(watched: Watched): void {
    void watched.crashed.then(() => {
      if (this.#stopping.signal.aborted || this.#watched !== watched) return;
      this.#recovery = this.#recover().finally(() => (this.#recovery = undefined));
    });
  }

  /**
   * Starts fresh consumers, the first at once and then with capped exponential backoff, until one fetches
   * (healthy again) or the writer stops. A consumer that fails to start or crashes before its first fetch counts
   * as a failed attempt.
   */
  async #recover(): Promise<void> {
    const stopped = new Promise<never>((_, reject) => {
      const signal = this.#stopping.signal;
      if (signal.aborted) reject(new Error('writer stopping'));
      else signal.addEventListener('abort', () => reject(new Error('writer stopping')), { once: true });
    });
    stopped.catch(() => undefined);
    const result = await retry(
      attempt(async () => {
        const old = this.#watched.consumer;
        await old.disconnect().catch(() => undefined); // kafkajs disconnects a crashed consumer; a failed start needs it
        if (this.#stopping.signal.aborted) throw new Error('writer stopping');
        const watched = this.#newConsumer();
        this.#watched = watched;
        this.#status.restarts++;
        this.kmetrics.consumerRestarts.inc();
        const crashed = watched.crashed.then((e) => Promise.reject(e));
        crashed.catch(() => undefined);
        await Promise.race([this.#run(watched.consumer), crashed, stopped]);
        await Promise.race([watched.fetched, crashed, stopped]);
        return watched;
      }),
      {
        initialDelayMs: 500,
        maxDelayMs: this.opts.maxRestartBackoffMs ?? 10_000,
        signal: this.#stopping.signal,
        onRetry: ({ error, delayMs }) => {
          const message = (error as Error).message;
          this.#status.error = message;
          this.log.warn({ err: message, retryInMs: Math.round(delayMs) }, 'fresh Kafka consumer failed; retrying');
        },
      },
    );
    if (result.status !== 'success') return;
    Object.assign(this.#status, { state: 'running', error: null });
    this.log.warn({ restarts: this.#status.restarts }, 'Kafka consumer recovered');
    this.#supervise(result.value);
  }

  async start(): Promise<void> {
    await this.#producer.connect();
    await this.#run(this.#consumer);
    // run() also returns when the consumer crashed while joining (a coordinator still loading): then it is
    // restarting already, and #supervise takes over at once.
    if (this.#status.state === 'starting') this.#status.state = 'running';
    this.#supervise(this.#watched);
    this.#timer = setInterval(() => this.#flushAged(), Math.max(10, Math.min(100, Math.floor(this.opts.maxAgeMs / 4), Math.floor((this.opts.idleMs ?? 200) / 2))));
    this.#timer.unref();
  }

  #withLock(k: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.#locks.get(k) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.#locks.set(k, tail);
    return next;
  }

  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const heartbeat = () => payload.heartbeat();
    const k = key(batch.topic, batch.partition);
    this.log.debug({ partition: k, first: batch.firstOffset(), count: batch.messages.length }, 'batch');
    this.#activeBatches++;
    try {
      await this.#eachBatchLocked(payload, k, heartbeat);
    } finally {
      this.#activeBatches--;
      if (batch.messages.length > 0) this.#lastMessageAt = Date.now();
    }
  }

  async #eachBatchLocked(payload: EachBatchPayload, k: string, heartbeat: () => Promise<void>): Promise<void> {
    const { batch } = payload;
    await this.#withLock(k, async () => {
      for (const message of batch.messages) {
        if (!payload.isRunning() || payload.isStale()) return;
        const offset = BigInt(message.offset);
        let plan = this.#plans.get(k);
        if (plan && offset <= plan.last) continue; // already in the plan (re-delivered after a pause)
        const handled = this.#handled.get(k);
        if (!plan && handled !== undefined && offset <= handled) continue; // in a plan already handed off
        if (plan?.replayUntil !== undefined && offset > plan.replayUntil) {
          // An offset gap jumped past the recorded end: close the replayed plan at its recorded range first.
          await this.#handOff(k, plan, heartbeat);
          plan = undefined;
        }
        if (!plan) {
          const flushing = this.#flushing.get(k);
          if (flushing && offset !== (flushing.plan.replayUntil ?? flushing.plan.last) + 1n) await this.#wait(flushing.done, heartbeat);
          plan = await this.#newPlan(batch.topic, batch.partition, offset, heartbeat);
          this.#plans.set(k, plan);
        }
        this.#addMessage(plan, message);
        payload.resolveOffset(message.offset);
        if (plan.replayUntil !== undefined ? plan.last >= plan.replayUntil : plan.tables.rows >= this.opts.maxRows) {
          await this.#handOff(k, plan, heartbeat);
        }
      }
      this.kmetrics.consumed.inc({ topic: batch.topic }, batch.messages.length);
      await heartbeat();
    });
  }

  async #newPlan(topic: string, partition: number, first: bigint, heartbeat: () => Promise<void>): Promise<Plan> {
    const replayUntil = await this.#retrying(topic, partition, heartbeat, 'ledger lookup', () =>
      findPlannedRange(this.store, this.opts.database, { stream: topic, partition }, first),
    );
    if (replayUntil !== undefined) {
      this.kmetrics.replays.inc({ topic });
      this.log.warn({ topic, partition, first: first.toString(), last: replayUntil.toString() }, 'replaying a planned batch');
    }
    const tables = new StagedTables(this.store, this.opts.database, this.opts.codecs);
    return { topic, partition, first, last: first - 1n, replayUntil, replayed: replayUntil !== undefined, tables, dead: [], logs: [], startedAt: Date.now() };
  }

  #addMessage(plan: Plan, message: KafkaMessage): void {
    plan.last = BigInt(message.offset);
    const undecodable = undecodableError(message);
    if (undecodable !== undefined) {
      plan.dead.push({ message, error: undecodable });
      return;
    }
    const signal = signalOfTopic(this.opts.topics, plan.topic);
    if (!signal || !message.value) {
      plan.dead.push({ message, error: message.value ? `no signal for topic ${plan.topic}` : 'empty message' });
      return;
    }
    try {
      plan.tables.addRequest(signal, message.value);
      if (signal === 'logs' && this.opts.tap?.active) plan.logs.push(message.value);
    } catch (e) {
      if (!(e instanceof OtlpDecodeError)) this.log.error({ err: e }, 'decoder failed unexpectedly');
      plan.dead.push({ message, error: (e as Error).message });
    }
  }

  #flushAged(): void {
    const now = Date.now();
    // Per partition, quiet spells are normal under load (a partition waits for its previous flush, and the
    // fetch loop with it), and so is a long batch holding up the fetch loop: only a writer that has had no
    // batch to work on for a while has seen the load stop.
    const quiet = this.#activeBatches === 0 && now - this.#lastMessageAt >= (this.opts.idleMs ?? 200);
    for (const [k, plan] of this.#plans) {
      if (plan.replayUntil !== undefined || (now - plan.startedAt < this.opts.maxAgeMs && !quiet)) continue;
      this.#withLock(k, async () => {
        if (this.#plans.get(k) === plan) await this.#handOff(k, plan, () => Promise.resolve());
      }).catch((err: unknown) => this.log.error({ err, partition: k }, 'flush failed'));
    }
  }

  /**
   * Takes a due plan off the partition and flushes it in the background, once the partition's previous flush
   * has ended. Called with the partition's lock held.
   */
  async #handOff(k: string, plan: Plan, heartbeat: () => Promise<void>): Promise<void> {
    const previous = this.#flushing.get(k);
    if (previous) await this.#wait(previous.done, heartbeat);
    if (this.#plans.get(k) === plan) this.#plans.delete(k);
    this.#handled.set(k, plan.replayUntil ?? plan.last);
    const done = this.#flush(plan, heartbeat).catch((err: unknown) => this.log.error({ err, partition: k }, 'flush failed'));
    const entry = { plan, done };
    this.#flushing.set(k, entry);
    void done.then(() => {
      if (this.#flushing.get(k) === entry) this.#flushing.delete(k);
    });
  }

  /** Waits for `done`, heartbeating meanwhile so a long flush does not cost this member its partitions. */
  async #wait(done: Promise<void>, heartbeat: () => Promise<void>): Promise<void> {
    let finished = false;
    void done.then(() => (finished = true));
    while (!finished) {
      await Promise.race([done, new Promise((r) => setTimeout(r, 1000))]);
      if (!finished) await heartbeat().catch(() => undefined);
    }
  }

  /**
   * Steps 1–4 of the module doc. Steps 1–3 are retried with capped backoff while ClickHouse (or the DLQ) is
   * unavailable, with the partition paused. Step 4 is tried once: when the commit fails (broker gone, group
   * rebalancing) the plan is simply dropped, because whoever reads the partition next from the committed offset
   * replays the recorded range with the same tokens. Retrying the commit here instead would keep the partition's
   * next hand-off waiting, holding the partition lock that the consumer needs to rejoin its group — a deadlock.
   */
  async #flush(plan: Plan, heartbeat: () => Promise<void>): Promise<void> {
    const { topic, partition } = plan;
    try {
      await this.#retrying(topic, partition, heartbeat, 'flush', () => this.#writePlan(plan));
    } finally {
      await discard(plan);
    }
    this.opts.tap?.publish(plan.logs); // inserted: the live tail may show them now
    const last = plan.replayUntil ?? plan.last; // always set by now: the ledger step ran
    try {
      await this.#consumer.commitOffsets([{ topic, partition, offset: (last + 1n).toString() }]);
      this.log.debug({ topic, partition, first: plan.first.toString(), last: last.toString() }, 'committed');
    } catch (e) {
      this.log.warn({ topic, partition, err: (e as Error).message }, 'offset commit failed; the range will be replayed from the ledger');
    }
  }

  /** Steps 1–3 for one plan; safe to run again after a failure. */
  async #writePlan(plan: Plan): Promise<void> {
    const { topic, partition } = plan;
    if (plan.replayUntil === undefined) {
      await recordPlannedRange(this.store, this.opts.database, { stream: topic, partition }, plan.first, plan.last);
      plan.replayUntil = plan.last; // from here on a retry is a replay of this exact range
    }
    if (plan.dead.length > 0) await this.#deadLetter(plan);
    // The recorded range, not the messages seen: tokens and the commit must match what the ledger says.
    // Partitions flush concurrently; the store runs as many of their inserts at once as it has insert slots.
    const inserted = await plan.tables.insert({ stream: topic, partition }, plan.first, plan.replayUntil, this.metrics);
    if (plan.replayed) for (const rows of inserted.values()) this.kmetrics.replayedRows.inc({ topic }, rows);
  }

  /**
   * Runs `step` until it succeeds, with capped exponential backoff; while it fails the partition is paused (its
   * lag grows) and each retry is counted. Gives up only when the writer is stopping: nothing is committed then,
   * so the partition's next owner starts from the same offset.
   */
  async #retrying<T>(topic: string, partition: number, heartbeat: () => Promise<void>, what: string, step: () => Promise<T>): Promise<T> {
    let paused = false;
    try {
      const result = await retry(
        attempt(async ({ attempt: n }) => {
          // A wait may have outlasted the heartbeat interval: tell the group this member is alive before trying again.
          if (n > 1) await heartbeat().catch(() => undefined);
          return step();
        }),
        {
          initialDelayMs: 200,
          maxDelayMs: this.opts.maxBackoffMs ?? 30_000,
          signal: this.#stopping.signal,
          onRetry: ({ delayMs, error }) => {
            this.kmetrics.retries.inc({ topic });
            this.log.warn({ topic, partition, err: (error as Error).message, retryInMs: Math.round(delayMs) }, `${what} failed; retrying`);
            if (!paused) {
              this.#consumer.pause([{ topic, partitions: [partition] }]);
              paused = true;
            }
          },
        },
      );
      return unwrap(result);
    } finally {
      if (paused) this.#consumer.resume([{ topic, partitions: [partition] }]);
    }
  }

  async #deadLetter(plan: Plan): Promise<void> {
    await this.#producer.send({
      topic: this.opts.topics.dlq,
      acks: -1,
      messages: plan.dead.map(({ message, error }) => ({
        key: message.key,
        value: message.value,
        headers: {
          'crowsnest.error': error.slice(0, 4096),
          'crowsnest.source.topic': plan.topic,
          'crowsnest.source.partition': String(plan.partition),
          'crowsnest.source.offset': message.offset,
        },
      })),
    });
    this.kmetrics.deadLettered.inc({ topic: plan.topic }, plan.dead.length);
    this.log.warn({ topic: plan.topic, partition: plan.partition, count: plan.dead.length, first: plan.dead[0]?.error }, 'messages sent to the dead-letter topic');
    plan.dead = []; // a retry of the inserts must not dead-letter them twice
  }

  /** Flushes what is planned, commits, and leaves the group. */
  async close(): Promise<void> {
    this.#stopping.abort();
    if (this.#timer) clearInterval(this.#timer);
    for (const [k, plan] of [...this.#plans]) {
      await this.#withLock(k, async () => {
        if (this.#plans.get(k) === plan) await this.#handOff(k, plan, () => Promise.resolve());
      }).catch((err: unknown) => this.log.warn({ err, partition: k }, 'flush at shutdown failed'));
    }
    await Promise.all([...this.#flushing.values()].map((f) => f.done));
    await this.#recovery;
    await this.#consumer.disconnect();
    await this.#producer.disconnect();
  }
}
