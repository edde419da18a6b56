/**
 * The insert primitive both writers use: a table's batch, encoded into Native blocks as its rows arrive and
 * inserted with one statement when the batch is due.
 *
 * Why encode on arrival: a batch's insert is the serial step of ingest (one per table at a time in-process, one per
 * partition through Kafka; see the writers).
 * Measured on the 2-core bench with encode-at-flush, a 30k-span insert spent 5.6 µs/row encoding, 5.3 µs/row
 * writing the file and 8.9 µs/row in the engine; encoding and writing while the batch fills leaves only the engine
 * on that path, and the row objects die young instead of living until the flush.
 *
 * - Embedded chDB: each block is appended to a scratch file as soon as it is encoded, and the engine reads the
 *   file with `file(path, Native)`. The appends are synchronous: a block is a few MB into the page cache (about
 *   a millisecond), while a chain of async file operations crawled when the event loop was saturated (measured
 *   with gateway and writer in one process: 2 s to write and close a 190-row file). chDB's inline insert path
 *   carries the data inside the query text as a string, which cannot hold binary data and measured 4× slower even
 *   for text formats.
 * - ClickHouse server: the blocks stay in memory and are the body of `INSERT … FORMAT Native`.
 * Either way it is one statement through `Store.insert` (an insert slot, off the connection queries use), so insert
 * settings (deduplication tokens) apply, and `insert` may be called again after a failure: it sends the same bytes.
 *
 * Blocks are cut every `blockRows` rows of the batch's row sequence, so the same rows make the same blocks
 * however they were handed in (a Kafka replay re-reads messages in different groupings).
 */
import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ClickHouseSettings } from '@clickhouse/client';
import type { Store } from '#storage/client.ts';
import type { TableCodec } from '#storage/native.ts';
import { sql, stringLiteral, unsafeRaw } from '#storage/sql.ts';

/** Rows per Native block: large enough that per-block headers are noise, small enough to encode between requests. */
const BLOCK_ROWS = 4096;

export class StagedInsert {
  #rows = 0;
  #pending: unknown[] = [];
  /** Server mode: the encoded blocks. */
  readonly #blocks: Buffer[] = [];
  /** Embedded: the scratch file; `fd` is open until the insert, and a failed append is kept for it to throw. */
  #file: { path: string; fd: number | undefined; error: Error | undefined } | undefined;

  /** @param table a `database.table` name the code chose, never user input */
  constructor(
    private readonly store: Store,
    private readonly table: string,
    private readonly codec: TableCodec,
    private readonly blockRows = BLOCK_ROWS,
  ) {}

  /** Rows added so far. */
  get rows(): number {
    return this.#rows;
  }

  /** Adds rows; every full block is encoded now and, embedded, appended to the scratch file. */
  add(rows: readonly unknown[]): void {
    this.#rows += rows.length;
    for (const row of rows) {
      this.#pending.push(row);
      if (this.#pending.length === this.blockRows) this.#cut();
    }
  }

  /**
   * Inserts every row added, and resolves to the seconds the engine took (see `Store.insert`). May be retried after
   * a failure; add nothing after the first call.
   */
  async insert(settings?: ClickHouseSettings): Promise<number> {
    if (this.#pending.length > 0) this.#cut();
    if (this.#rows === 0) return 0;
    if (this.store.scratchDir === undefined) {
      return this.store.insert(sql`INSERT INTO ${unsafeRaw(this.table)} FORMAT Native`, { settings, values: Readable.from(this.#blocks, { objectMode: false }) });
    }
    const file = this.#file!;
    if (file.error) throw file.error;
    if (file.fd !== undefined) {
      closeSync(file.fd);
      file.fd = undefined;
    }
    // The blocks name their columns and types; they are the insertable columns in table order, so `SELECT *` lines
    // up and the engine casts the LowCardinality ones. The path is a literal: inserts carry no parameters.
    return this.store.insert(sql`INSERT INTO ${unsafeRaw(this.table)} SELECT * FROM file(${stringLiteral(file.path)}, Native)`, { settings });
  }

  /** Releases the staged bytes (the scratch file). Call once the batch is inserted or given up. */
  async discard(): Promise<void> {
    this.#blocks.length = 0;
    this.#pending = [];
    const file = this.#file;
    if (!file) return;
    if (file.fd !== undefined) {
      closeSync(file.fd);
      file.fd = undefined;
    }
    await rm(file.path, { force: true });
  }

  #cut(): void {
    const block = this.codec.encode(this.#pending);
    this.#pending = [];
    const dir = this.store.scratchDir;
    if (dir === undefined) {
      this.#blocks.push(block);
      return;
    }
    const file = (this.#file ??= { path: join(dir, `${randomUUID()}.native`), fd: undefined, error: undefined });
    if (file.error) return;
    try {
      if (file.fd === undefined) {
        mkdirSync(dir, { recursive: true });
        file.fd = openSync(file.path, 'w');
      }
      for (let off = 0; off < block.length; ) off += writeSync(file.fd, block, off);
    } catch (e) {
      // Surfaces from insert(): add() stays infallible for its callers, and the batch fails as a whole.
      file.error = e as Error;
    }
  }
}
