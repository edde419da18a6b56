/**
 * Batches rows per table and inserts them into ClickHouse, flushing a table's batch when it holds
 * `maxRows` rows or its oldest row is `maxAgeMs` old. Each `write` resolves once every row it contributed is
 * inserted (or rejects when the insert failed after retries), which is what lets receivers acknowledge only
 * durable data and lets the Kafka writer commit offsets only after ClickHouse acknowledged.
 *
 * One insert per table at a time: ClickHouse prefers fewer, larger inserts, and while one runs the next batch
 * keeps filling. A batch also goes as soon as the table is idle and it holds a tenth of `maxRows` (group
 * commit): receivers acknowledge only after the insert, so under load the clients' in-flight data rarely reaches
 * `maxRows` and waiting out `maxAgeMs` would only add latency; the tenth keeps inserts from becoming small.
 * Rows are encoded (Native) as they join a batch, so a batch's insert is only the engine's work (see insert.ts).
 */
import type { Logger } from 'pino';
import type { PlatformMetrics } from '#core/metrics.ts';
import { attempt, retry } from '#core/retry.ts';
import type { DecodedRequest, TableName } from '#otlp/rows.ts';
import type { Store } from '#storage/client.ts';
import type { Codecs } from '#storage/codecs.ts';
import { StagedInsert } from './insert.ts';

export interface WriterOptions {
  database: string;
  codecs: Codecs;
  maxRows: number;
  maxAgeMs: number;
  /** Insert attempts before a batch's writers are told it failed. @default 3 */
  attempts?: number;
  /** First retry delay, doubled per attempt (± 20 % jitter). @default 200 */
  backoffMs?: number;
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

interface Batch {
  staged: StagedInsert;
  waiters: Waiter[];
  startedAt: number;
}

export class BatchWriter {
  readonly #batches = new Map<TableName, Batch>();
  readonly #inserting = new Map<TableName, Promise<void>>();
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  constructor(
    private readonly store: Store,
    private readonly opts: WriterOptions,
    private readonly metrics: PlatformMetrics,
    private readonly log: Logger,
  ) {
    // A coarse tick checks batch ages; a timer per batch would churn on every request.
    this.#timer = setInterval(() => this.#flushAged(), Math.max(5, Math.min(100, Math.floor(opts.maxAgeMs / 4))));
    this.#timer.unref();
  }

  /** Queues the request's rows; resolves when all of them are in ClickHouse. */
  write(req: DecodedRequest): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('writer is closed'));
    const parts: Promise<void>[] = [];
    for (const [table, rows] of Object.entries(req.tables) as [TableName, unknown[]][]) {
      if (!rows || rows.length === 0) continue;
      parts.push(this.#add(table, rows));
    }
    if (parts.length === 0) return Promise.resolve();
    return parts.length === 1 ? parts[0]! : Promise.all(parts).then(() => undefined);
  }

  #add(table: TableName, rows: unknown[]): Promise<void> {
    let batch = this.#batches.get(table);
    if (!batch) {
      batch = { staged: new StagedInsert(this.store, `${this.opts.database}.${table}`, this.opts.codecs.get(table)!), waiters: [], startedAt: Date.now() };
      this.#batches.set(table, batch);
    }
    batch.staged.add(rows);
    const done = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (this.#due(table, batch)) this.#flush(table);
    return done;
  }

  #due(table: TableName, batch: Batch): boolean {
    const rows = batch.staged.rows;
    if (rows >= this.opts.maxRows || this.#closed || Date.now() - batch.startedAt >= this.opts.maxAgeMs) return true;
    return !this.#inserting.has(table) && rows >= Math.max(1, Math.floor(this.opts.maxRows / 10));
  }

  #flushAged(): void {
    const now = Date.now();
    for (const [table, batch] of this.#batches) {
      if (now - batch.startedAt >= this.opts.maxAgeMs) this.#flush(table);
    }
  }

  /** Starts inserting the table's batch unless an insert for that table is already running (it will chain). */
  #flush(table: TableName): void {
    if (this.#inserting.has(table)) return;
    const batch = this.#batches.get(table);
    if (!batch || batch.staged.rows === 0) return;
    this.#batches.delete(table);
    const running = this.#insert(table, batch).finally(() => {
      batch.staged.discard().catch((e: unknown) => this.log.warn({ table, err: (e as Error).message }, 'could not remove a staged batch'));
      this.#inserting.delete(table);
      // Rows that arrived during the insert may already be due.
      const next = this.#batches.get(table);
      if (next && this.#due(table, next)) this.#flush(table);
    });
    this.#inserting.set(table, running);
  }

  /** Inserts the batch, retried with backoff (#core/retry.ts) up to `attempts`; settles its writes either way. */
  async #insert(table: TableName, batch: Batch): Promise<void> {
    const result = await retry(
      attempt(async ({ attempt: n }) => {
        try {
          return await batch.staged.insert();
        } catch (e) {
          this.metrics.writeErrors.inc({ table });
          this.log.warn({ table, rows: batch.staged.rows, attempt: n, err: (e as Error).message }, 'insert failed');
          throw e;
        }
      }),
      { maxAttempts: this.opts.attempts ?? 3, initialDelayMs: this.opts.backoffMs ?? 200, multiplier: 2, maxDelayMs: 30_000 },
    );
    if (result.status === 'failure') {
      const err = result.error instanceof Error ? result.error : new Error('insert failed');
      for (const w of batch.waiters) w.reject(err);
      return;
    }
    this.metrics.batchSeconds.observe({ table }, result.value);
    this.metrics.batchRows.observe({ table }, batch.staged.rows);
    this.metrics.written.inc({ table }, batch.staged.rows);
    for (const w of batch.waiters) w.resolve();
  }

  /** Flushes everything queued and waits for the inserts. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    for (const table of [...this.#batches.keys()]) this.#flush(table);
    while (this.#inserting.size > 0) await Promise.allSettled([...this.#inserting.values()]);
  }
}
