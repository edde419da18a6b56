/**
 * The plan discipline both writers follow to get exactly-once rows out of an at-least-once log (a Kafka
 * partition, or the write-ahead log): a *plan* is a run of consecutive log records [first, last] decoded into
 * rows per table, flushed in four steps:
 *   1. record the range in the ledger (`crowsnest_kafka_batches`: stream, partition, first, last);
 *   2. set aside what can never be decoded (the writer's dead-letter place);
 *   3. insert each table's rows with `insert_deduplication_token = stream:partition:first-last:table`;
 *   4. commit last + 1 (the writer's log).
 * A writer that starts reading at a committed offset first asks the ledger whether a plan starting there was
 * recorded (a crash after step 1). If so it replays exactly that range, so its inserts carry the same tokens and
 * ClickHouse drops the blocks that already landed (`non_replicated_deduplication_window` on our tables).
 *
 * This module holds the steps that do not depend on the log: the ledger lookup and record, and a plan's rows
 * staged per table and inserted with their tokens.
 */
import type { PlatformMetrics } from '#core/metrics.ts';
import { decodeProtobuf } from '#otlp/decode.ts';
import type { Signal, TableName } from '#otlp/rows.ts';
import type { Store } from '#storage/client.ts';
import type { Codecs } from '#storage/codecs.ts';
import { ident, param, sql } from '#storage/sql.ts';
import { TABLES } from '#storage/tables.ts';
import { StagedInsert } from './insert.ts';

/** Where a plan's records come from: a Kafka topic partition, or a write-ahead log (`wal:<id>`, partition 0). */
export interface LogStream {
  stream: string;
  partition: number;
}

/** The last offset of the plan recorded as starting at `first`, if one was (a crash left it uncommitted). */
export async function findPlannedRange(store: Store, database: string, s: LogStream, first: bigint | number): Promise<bigint | undefined> {
  const [found] = await store.rows<{ last: string }>(
    sql`SELECT max(last_offset) AS last FROM ${ident(database)}.${ident(TABLES.kafkaBatches.name)}
        WHERE topic = ${param('String', s.stream)} AND partition = ${param('UInt32', s.partition)} AND first_offset = ${param('UInt64', first.toString())}
        HAVING count() > 0`,
  );
  return found ? BigInt(found.last) : undefined;
}

/** Step 1: records the range [first, last] before anything of it is inserted. */
export async function recordPlannedRange(store: Store, database: string, s: LogStream, first: bigint | number, last: bigint | number): Promise<void> {
  await store.command(
    sql`INSERT INTO ${ident(database)}.${ident(TABLES.kafkaBatches.name)} (topic, partition, first_offset, last_offset)
        VALUES (${param('String', s.stream)}, ${param('UInt32', s.partition)}, ${param('UInt64', first.toString())}, ${param('UInt64', last.toString())})`,
  );
}

/** A plan's rows per table, encoded into Native blocks as they arrive (insert.ts). */
export class StagedTables {
  readonly #staged = new Map<TableName, StagedInsert>();
  #rows = 0;

  constructor(
    private readonly store: Store,
    private readonly database: string,
    private readonly codecs: Codecs,
  ) {}

  get rows(): number {
    return this.#rows;
  }

  /** Decodes an OTLP protobuf request and stages its rows; throws the decoder's error when it cannot. */
  addRequest(signal: Signal, bytes: Uint8Array): void {
    const decoded = decodeProtobuf(signal, bytes);
    for (const [table, rows] of Object.entries(decoded.tables) as [TableName, unknown[]][]) {
      if (!rows?.length) continue;
      let staged = this.#staged.get(table);
      if (!staged) this.#staged.set(table, (staged = new StagedInsert(this.store, `${this.database}.${table}`, this.codecs.get(table)!)));
      staged.add(rows);
      this.#rows += rows.length;
    }
  }

  /**
   * Step 3: inserts every table's rows with the range's tokens. Safe to call again after a failure (the same
   * bytes, the same tokens). Resolves to the rows inserted per table.
   */
  async insert(s: LogStream, first: bigint | number, last: bigint | number, metrics: PlatformMetrics): Promise<Map<TableName, number>> {
    const inserted = new Map<TableName, number>();
    for (const [table, staged] of this.#staged) {
      const settings = {
        insert_deduplicate: 1,
        insert_deduplication_token: `${s.stream}:${s.partition}:${first}-${last}:${table}`,
        deduplicate_blocks_in_dependent_materialized_views: 1,
      } as const;
      metrics.batchSeconds.observe({ table }, await staged.insert(settings));
      metrics.batchRows.observe({ table }, staged.rows);
      metrics.written.inc({ table }, staged.rows);
      inserted.set(table, staged.rows);
    }
    return inserted;
  }

  /** Releases the staged bytes; call once the plan is inserted or given up. */
  async discard(): Promise<void> {
    await Promise.all([...this.#staged.values()].map((s) => s.discard()));
    this.#staged.clear();
  }
}
