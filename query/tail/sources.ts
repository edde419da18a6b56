/**
 * Where the tail hub's records come from (hub.ts `TailSource`):
 *
 * TapSource: the process's log tap (#core/log-tap.ts). The writer of this process publishes each plan's log
 * requests right after their insert succeeded (so a tailed line is a stored line), or the Kafka tap of a query
 * process apart publishes what it consumes. The bytes are decoded here with the writers' own decoder (#otlp), once
 * per process, off the publisher's turn: requests wait in a queue (at most `MAX_PENDING_BYTES`; beyond it they are
 * skipped and reported to every viewer as dropped, reason `source`) and are decoded about 1 MiB per event-loop
 * turn, so a 100k-row plan does not stall the writer or the API for its whole decode.
 *
 * PollSource: no tap in this process (the query role apart on a ClickHouse server, its writers elsewhere without
 * Kafka). One poll per process, never per viewer, only while someone tails: every `pollMs` (1 s) the search's own
 * SQL (query/sql/logs.ts `logSearchSql`, no filters) reads the newest `limit` records of the last `windowMs`
 * (30 s); records not seen before are delivered, oldest first. Cost: one query per second, which reads the
 * Timestamp column of the last 30 s (the primary key bounds it to one or two five-minute blocks) and at most
 * `limit` + 1 full rows, whatever the number of viewers. Limits, said plainly: a record whose own timestamp is
 * already older than the window when it is inserted (a client clock far behind, or a backlog drained late) is
 * never seen, and at more than `limit` new records a second the oldest of them are skipped and reported as
 * dropped (reason `source`, counted by one extra count query).
 */
import type { Logger } from 'pino';
import type { LogTap } from '#core/log-tap.ts';
import { decodeProtobuf } from '#otlp/decode.ts';
import type { Store } from '#storage/client.ts';
import { sql } from '#storage/sql.ts';
import type { LogRecord } from '../contract.ts';
import { NS_PER_MS } from '../params/time.ts';
import { runQuery } from '../run.ts';
import { table, ts, where } from '../sql/common.ts';
import { logSearchSql } from '../sql/logs.ts';
import type { TailSource } from './hub.ts';
import { TailRecord, toLogRecord } from './record.ts';

/** Published bytes waiting to be decoded, at most. */
const MAX_PENDING_BYTES = 64 * 1024 * 1024;
/** Bytes decoded per event-loop turn. */
const SLICE_BYTES = 1024 * 1024;

/** The log records of OTLP ExportLogsServiceRequest bytes; undecodable bytes yield none (writers never publish them). */
export function decodeLogRecords(bytes: Uint8Array): TailRecord[] {
  const rows = decodeProtobuf('logs', bytes).tables.otel_logs;
  return rows === undefined ? [] : rows.map((row) => new TailRecord(toLogRecord(row)));
}

export class TapSource implements TailSource {
  readonly name: string;
  #unsubscribe: (() => void) | undefined;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #scheduled = false;
  #deliver: (records: readonly TailRecord[]) => void = () => undefined;
  #dropped: (count: number) => void = () => undefined;

  constructor(
    private readonly tap: LogTap,
    private readonly log: Logger,
  ) {
    this.name = tap.source;
  }

  start(deliver: (records: readonly TailRecord[]) => void, dropped: (count: number) => void): void {
    this.#deliver = deliver;
    this.#dropped = dropped;
    this.#unsubscribe = this.tap.subscribe((requests) => this.#take(requests));
  }

  live(): Promise<void> {
    return this.tap.live();
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#pending = [];
    this.#pendingBytes = 0;
  }

  #take(requests: readonly Uint8Array[]): void {
    for (const bytes of requests) {
      if (this.#pendingBytes + bytes.byteLength > MAX_PENDING_BYTES) {
        // The decoder is this far behind: skip the request; its records count as dropped for every viewer.
        this.#dropped(this.#count(bytes));
        continue;
      }
      this.#pending.push(bytes);
      this.#pendingBytes += bytes.byteLength;
    }
    this.#schedule();
  }

  #count(bytes: Uint8Array): number {
    try {
      return decodeProtobuf('logs', bytes).accepted;
    } catch {
      return 0;
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#pending.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#decodeSlice();
    });
  }

  #decodeSlice(): void {
    let budget = SLICE_BYTES;
    const records: TailRecord[] = [];
    while (budget > 0 && this.#pending.length > 0) {
      const bytes = this.#pending.shift()!;
      this.#pendingBytes -= bytes.byteLength;
      budget -= bytes.byteLength;
      try {
        records.push(...decodeLogRecords(bytes));
      } catch (err) {
        this.log.warn({ err }, 'live tail: a published log request did not decode');
      }
    }
    if (records.length > 0) this.#deliver(records);
    this.#schedule();
  }
}

export interface PollOptions {
  /** @default 1000 */
  pollMs?: number;
  /** How far back each poll looks. @default 30000 */
  windowMs?: number;
  /** Records read per poll, at most. @default 2000 */
  limit?: number;
}

type PolledRow = LogRecord & { rowHash: string };

export class PollSource implements TailSource {
  readonly name = 'poll';
  readonly #opts: Required<PollOptions>;
  /** Records delivered (or present at the first poll), by time and row hash, while inside the window. */
  readonly #seen = new Map<string, bigint>();
  #timer: NodeJS.Timeout | undefined;
  #generation = 0;
  #live: Promise<void> = Promise.resolve();
  /** Records older than this were skipped by the row limit and reported once: polls no longer look below it. */
  #floorNs = 0n;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    opts: PollOptions = {},
  ) {
    this.#opts = { pollMs: 1000, windowMs: 30_000, limit: 2000, ...opts };
  }

  start(deliver: (records: readonly TailRecord[]) => void, dropped: (count: number) => void): void {
    const generation = ++this.#generation;
    this.#seen.clear();
    this.#floorNs = 0n;
    // The first poll only learns what is already there: a tail shows what arrives from now on.
    this.#live = this.#poll(generation, undefined, undefined);
    const loop = async () => {
      await this.#poll(generation, deliver, dropped);
      if (generation === this.#generation) this.#timer = setTimeout(() => void loop(), this.#opts.pollMs);
    };
    void this.#live.then(() => {
      if (generation === this.#generation) this.#timer = setTimeout(() => void loop(), this.#opts.pollMs);
    });
  }

  live(): Promise<void> {
    return this.#live;
  }

  stop(): void {
    this.#generation++;
    clearTimeout(this.#timer);
    this.#seen.clear();
  }

  async #poll(generation: number, deliver: ((records: readonly TailRecord[]) => void) | undefined, dropped: ((count: number) => void) | undefined): Promise<void> {
    const nowNs = BigInt(Date.now()) * NS_PER_MS;
    const windowStartNs = nowNs - BigInt(this.#opts.windowMs) * NS_PER_MS;
    const startNs = windowStartNs > this.#floorNs ? windowStartNs : this.#floorNs;
    // Up to a day ahead: a client clock running fast must not hide its records.
    const range = { startNs, endNs: nowNs + 86_400_000n * NS_PER_MS };
    const limit = this.#opts.limit;
    let rows: PolledRow[];
    try {
      rows = await runQuery<PolledRow>(this.store, logSearchSql(this.store.database, { range, attrs: [], limit }));
    } catch (err) {
      this.log.warn({ err }, 'live tail poll failed');
      return;
    }
    if (generation !== this.#generation) return;
    const more = rows.length > limit;
    if (more) rows.length = limit;
    const fresh: TailRecord[] = [];
    // Newest first from the query: delivered oldest first.
    for (let i = rows.length - 1; i >= 0; i--) {
      const { rowHash, ...record } = rows[i]!;
      const key = `${record.timeUnixNano}.${rowHash}`;
      if (this.#seen.has(key)) continue;
      this.#seen.set(key, BigInt(record.timeUnixNano));
      fresh.push(new TailRecord(record));
    }
    for (const [key, t] of this.#seen) if (t < startNs) this.#seen.delete(key);
    if (deliver && fresh.length > 0) deliver(fresh);
    if (more) {
      const oldestReadNs = BigInt(rows[rows.length - 1]!.timeUnixNano);
      if (dropped) await this.#countSkipped(startNs, oldestReadNs, dropped);
      if (oldestReadNs > this.#floorNs) this.#floorNs = oldestReadNs;
    }
  }

  /** Records of the window older than the oldest one read, not seen before: skipped by the row limit. */
  async #countSkipped(startNs: bigint, oldestReadNs: bigint, dropped: (count: number) => void): Promise<void> {
    try {
      const db = this.store.database;
      const [row] = await runQuery<{ n: string }>(
        this.store,
        sql`SELECT count() AS n FROM ${table(db, 'otel_logs')} ${where([sql`Timestamp >= ${ts(startNs)}`, sql`Timestamp < ${ts(oldestReadNs)}`])}`,
      );
      let seen = 0;
      for (const t of this.#seen.values()) if (t >= startNs && t < oldestReadNs) seen++;
      const skipped = Number(row?.n ?? 0) - seen;
      if (skipped > 0) dropped(skipped);
    } catch (err) {
      this.log.warn({ err }, 'live tail poll: counting skipped records failed');
    }
  }
}
