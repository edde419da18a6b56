/**
 * Batches rows per table and inserts them into ClickHouse, flushing a table's batch when it holds
 * `maxRows` rows or its oldest row is `maxAgeMs` old. Each `write` resolves once every row it contributed is
 * inserted (or rejects when the insert failed after retries), which is what lets receivers acknowledge only
 * durable data and lets the Kafka writer commit offsets only after ClickHouse acknowledged.
 *
 * One insert per table at a time: ClickHouse prefers fewer, larger inserts, and while one runs the next batch
 * keeps filling. Rows are serialized to JSONEachRow text once, by the writer, in one string per batch.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from 'pino';
import type { PlatformMetrics } from '../core/metrics.ts';
import type { DecodedRequest, TableName } from '../otlp/rows.ts';
import { insertJsonLines } from './insert.ts';

export interface WriterOptions {
  database: string;
  maxRows: number;
  maxAgeMs: number;
  /** Insert attempts before a batch's writers are told it failed. @default 3 */
  attempts?: number;
  /** First retry delay, doubled per attempt. @default 200 */
  backoffMs?: number;
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

interface Batch {
  lines: string[];
  waiters: Waiter[];
  startedAt: number;
}

export class BatchWriter {
  readonly #batches = new Map<TableName, Batch>();
  readonly #inserting = new Map<TableName, Promise<void>>();
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  constructor(
    private readonly client: ClickHouseClient,
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
      batch = { lines: [], waiters: [], startedAt: Date.now() };
      this.#batches.set(table, batch);
    }
    for (const row of rows) batch.lines.push(JSON.stringify(row));
    const done = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (batch.lines.length >= this.opts.maxRows) this.#flush(table);
    return done;
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
    if (!batch || batch.lines.length === 0) return;
    this.#batches.delete(table);
    const running = this.#insert(table, batch).finally(() => {
      this.#inserting.delete(table);
      // Rows that arrived during the insert may already be due.
      const next = this.#batches.get(table);
      if (next && (next.lines.length >= this.opts.maxRows || Date.now() - next.startedAt >= this.opts.maxAgeMs || this.#closed)) {
        this.#flush(table);
      }
    });
    this.#inserting.set(table, running);
  }

  async #insert(table: TableName, batch: Batch): Promise<void> {
    const attempts = this.opts.attempts ?? 3;
    let delay = this.opts.backoffMs ?? 200;
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const started = performance.now();
      try {
        await insertJsonLines(this.client, `${this.opts.database}.${table}`, batch.lines);
        this.metrics.batchSeconds.observe({ table }, (performance.now() - started) / 1000);
        this.metrics.batchRows.observe({ table }, batch.lines.length);
        this.metrics.written.inc({ table }, batch.lines.length);
        for (const w of batch.waiters) w.resolve();
        return;
      } catch (e) {
        lastError = e as Error;
        this.metrics.writeErrors.inc({ table });
        this.log.warn({ table, rows: batch.lines.length, attempt, err: lastError.message }, 'insert failed');
        if (attempt < attempts) {
          await new Promise((r) => setTimeout(r, delay));
          delay *= 2;
        }
      }
    }
    for (const w of batch.waiters) w.reject(lastError ?? new Error('insert failed'));
  }

  /** Flushes everything queued and waits for the inserts. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    for (const table of [...this.#batches.keys()]) this.#flush(table);
    while (this.#inserting.size > 0) await Promise.allSettled([...this.#inserting.values()]);
  }
}
