/**
 * The write-ahead log of the embedded pipeline: receivers acknowledge a request once it is here and fsynced, and
 * the WAL's writer (writer.ts) moves it into ClickHouse afterwards, at the batch size the engine likes. It plays the
 * part a Kafka partition plays for the Kafka writer: an ordered log with offsets, a committed position, and a
 * ledger of planned ranges in ClickHouse so a replay after a crash deduplicates.
 *
 * On disk, in `<data-dir>/wal`:
 * - `<first offset, 20 digits>.wal` segments of records (record.ts), appended to the newest; a new segment is
 *   started once the newest holds `segmentBytes`;
 * - `checkpoint`: the position (offset, segment, byte) below which everything is in ClickHouse, replaced atomically
 *   (written aside, fsynced, renamed, directory fsynced);
 * - `wal-id`: this log's identity, part of its ledger stream name, so two processes writing to one ClickHouse
 *   server, or a log recreated after its directory was deleted, never share ledger entries;
 * - `dead/`: bytes that could not be read back (a record whose CRC fails, a decoder that refuses it), kept with why.
 *
 * Group commit. `append` writes the record into the newest segment at once (one `writev`, into the page cache) and
 * resolves when an fdatasync that began after the write has completed. One sync runs at a time; every record
 * written while it runs is covered by the next one, so under load one sync acknowledges many requests, and idle, a
 * request waits for one sync only. A new segment's directory entry is fsynced before anything in it is
 * acknowledged. The writer reads only what is durable: nothing reaches ClickHouse that a crash could take back.
 *
 * Bounded: `maxBytes` of records not yet committed; past it `tryAppend` answers `full` at once (receivers answer
 * 503 + Retry-After). Segments wholly below the checkpoint are deleted at each commit.
 *
 * Failures. A failed write (disk full) is cut back off the file, so the next record does not follow a torn one,
 * and that request fails (503). A failed fsync leaves the page cache's state unknown (PostgreSQL's "fsyncgate"):
 * the log stops taking records and says so (`failed`), and a restart recovers from what is on disk.
 *
 * Retries. OTLP exporters retry a request that got no answer (connection reset, refused, timed out) with the same
 * bytes, and OTLP has no idempotency key: a request that was durable here when the process died, unanswered, comes
 * back after the restart. The log remembers each request's SHA-256 (with its signal) for `retryWindowMs` and
 * answers the same bytes again once the first copy is durable, without a second record. Segments are kept that
 * long after they are committed, so a restart rebuilds what it remembers from them. Two distinct requests with the
 * same bytes cannot come from an SDK (span ids are random, points and records carry their times).
 *
 * Recovery (`open`): the newest segment is scanned; a torn tail (a record cut short by a crash: never acknowledged,
 * since its sync never completed) is truncated. A record that fails its CRC with valid records after it is
 * corruption of acknowledged data: the reader skips to the next valid record (resync) and keeps the skipped bytes
 * in `dead/`, counted, never silently.
 */
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fdatasync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
  writevSync,
} from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Signal } from '#otlp/rows.ts';
import { HEADER_BYTES, type RecordHeader, crcMatches, decodeHeader, encodeHeader } from './record.ts';
import { RecentRequests, requestHash } from './recent.ts';

const fdatasyncAsync = promisify(fdatasync);

/** A place in the log: the offset of the next record and where its bytes start. */
export interface WalPosition {
  offset: number;
  /** The segment's first offset (its name). */
  segment: number;
  /** Byte position in that segment. */
  pos: number;
}

export interface WalRecord {
  offset: number;
  appendedAt: number;
  signal: Signal;
  payload: Buffer;
  /** Header and payload bytes. */
  bytes: number;
  /** The position right after this record: commit it once the record is in ClickHouse. */
  next: WalPosition;
}

export type AppendResult =
  /** Resolves once the record is durable; rejects if the sync failed (the record may or may not survive). */
  | { ok: true; durable: Promise<void>; /** The same bytes were appended within the retry window: no new record. */ retry?: true }
  | { ok: false; reason: 'full' | 'failed' | 'closed'; message: string };

export interface WalOptions {
  dir: string;
  /** Bytes of records not yet committed; past it appends answer `full`. */
  maxBytes: number;
  /** A new segment is started once the newest holds this many bytes. @default 64 MiB */
  segmentBytes?: number;
  /** Called with each sync's duration in seconds and the records it made durable. */
  onSync?: (seconds: number, records: number) => void;
  /**
   * How long an appended request is remembered by its bytes: the same bytes again within this time are a client's
   * retry (see the module doc) and are answered without a second record. Segments are kept at least this long.
   * @default 120000
   */
  retryWindowMs?: number;
  /** Called for each request recognized as a retry of one already in the log. */
  onRetryRecognized?: () => void;
  /** Called when bytes are moved to `dead/`, with why. */
  onDeadLetter?: (bytes: number, reason: string) => void;
  /** Warnings: a torn tail cut, a resync. */
  warn?: (fields: Record<string, unknown>, msg: string) => void;
}

interface Segment {
  base: number;
  path: string;
  size: number;
}

interface Waiter {
  offset: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

const SEGMENT_RE = /^(\d{20})\.wal$/;
const segmentName = (base: number) => `${String(base).padStart(20, '0')}.wal`;

export class WriteAheadLog {
  readonly id: string;
  readonly dir: string;
  readonly #opts: Required<Pick<WalOptions, 'maxBytes' | 'segmentBytes' | 'retryWindowMs'>> & WalOptions;
  readonly #segments: Segment[];
  /** The newest segment's fd, for appends. */
  #fd: number;
  /** Fds of segments started since the last sync began, still to be synced once, then closed. */
  #sealed: number[] = [];
  #dirDirty = false;
  #next: number;
  /** Written (in the page cache) up to here; durable up to `#durable`. */
  #written: WalPosition;
  #durable: WalPosition;
  #checkpoint: WalPosition;
  /** Bytes of records at or after the checkpoint. */
  #pendingBytes = 0;
  /** When the oldest record at or after the checkpoint was appended; undefined when nothing is pending. */
  #oldestPendingAt: number | undefined;
  #waiters: Waiter[] = [];
  #syncing = false;
  #failed: string | undefined;
  #closed = false;
  readonly #listeners = new Set<() => void>();
  /** Recent requests by hash (recent.ts, shared with the Kafka transport): their offset. */
  readonly #recent: RecentRequests<number>;
  /** The reader's cursor and its open segment. */
  #cursor: WalPosition;
  #readFd: { segment: number; fd: number } | undefined;

  private constructor(opts: WalOptions, id: string, segments: Segment[], checkpoint: WalPosition, next: number) {
    this.#opts = { segmentBytes: 64 * 1024 * 1024, retryWindowMs: 120_000, ...opts };
    this.#recent = new RecentRequests({ windowMs: this.#opts.retryWindowMs });
    this.dir = opts.dir;
    this.id = id;
    this.#segments = segments;
    this.#checkpoint = checkpoint;
    this.#next = next;
    const last = segments.at(-1)!;
    this.#fd = openSync(last.path, 'r+');
    this.#written = { offset: next, segment: last.base, pos: last.size };
    this.#durable = { ...this.#written };
    this.#cursor = { ...checkpoint };
    this.#recount();
    this.#rememberFromDisk();
  }

  /** Opens (or creates) the log in `opts.dir`, recovering what a crash left: see the module doc. */
  static open(opts: WalOptions): WriteAheadLog {
    const { dir } = opts;
    mkdirSync(join(dir, 'dead'), { recursive: true });
    lock(dir);
    const idPath = join(dir, 'wal-id');
    let id: string;
    if (existsSync(idPath)) id = readFileSync(idPath, 'utf8').trim();
    else {
      id = randomUUID();
      writeDurably(dir, 'wal-id', id + '\n');
    }
    const segments: Segment[] = readdirSync(dir)
      .flatMap((name) => {
        const m = SEGMENT_RE.exec(name);
        return m ? [{ base: Number(m[1]), path: join(dir, name), size: statSync(join(dir, name)).size }] : [];
      })
      .sort((a, b) => a.base - b.base);
    let checkpoint = readCheckpoint(dir);
    if (segments.length === 0) {
      const base = checkpoint?.offset ?? 0;
      const path = join(dir, segmentName(base));
      closeSync(openSync(path, 'w'));
      fsyncDir(dir);
      segments.push({ base, path, size: 0 });
    }
    // A checkpoint in a segment that is gone (deleted after the commit, before a crash) starts at the next one.
    if (!checkpoint || !segments.some((s) => s.base === checkpoint!.segment)) {
      const first = segments.find((s) => s.base >= (checkpoint?.offset ?? 0)) ?? segments[0]!;
      checkpoint = { offset: Math.max(first.base, checkpoint?.offset ?? 0), segment: first.base, pos: 0 };
    }
    const last = segments.at(-1)!;
    const next = recoverTail(last, checkpoint.segment === last.base ? checkpoint : { offset: last.base, segment: last.base, pos: 0 }, opts.warn);
    return new WriteAheadLog(opts, id, segments, checkpoint, Math.max(next, checkpoint.offset));
  }

  /** The stream name under which the writer records its plans in the ledger. */
  get stream(): string {
    return `wal:${this.id}`;
  }

  get appendedOffset(): number {
    return this.#next;
  }

  get checkpoint(): WalPosition {
    return { ...this.#checkpoint };
  }

  /** Records appended and not yet committed (offsets skipped by `advanceTo` count until the checkpoint passes them). */
  get pendingRecords(): number {
    return Math.max(0, this.#next - this.#checkpoint.offset);
  }

  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  get maxBytes(): number {
    return this.#opts.maxBytes;
  }

  get segmentCount(): number {
    return this.#segments.length;
  }

  /** Seconds since the oldest record not yet committed was appended; undefined when none is pending. */
  oldestPendingSeconds(now = Date.now()): number | undefined {
    return this.#oldestPendingAt === undefined ? undefined : Math.max(0, (now - this.#oldestPendingAt) / 1000);
  }

  /** Why the log takes no records, when a sync failed. */
  get failed(): string | undefined {
    return this.#failed;
  }

  /** Appends a record unless the log is full, failed or closed; see `AppendResult`. */
  tryAppend(signal: Signal, payload: Uint8Array): AppendResult {
    if (this.#closed) return { ok: false, reason: 'closed', message: 'shutting down' };
    if (this.#failed) return { ok: false, reason: 'failed', message: this.#failed };
    const now = Date.now();
    const hash = requestHash(signal, payload);
    const seen = this.#recent.get(hash, now);
    if (seen !== undefined) {
      this.#opts.onRetryRecognized?.();
      return { ok: true, durable: this.#durableAt(seen), retry: true };
    }
    const size = HEADER_BYTES + payload.byteLength;
    // A single record larger than the bound is still taken when nothing is pending, or it could never be.
    if (this.#pendingBytes > 0 && this.#pendingBytes + size > this.#opts.maxBytes) return { ok: false, reason: 'full', message: 'write-ahead log is full' };
    let segment = this.#segments.at(-1)!;
    if (segment.size > 0 && segment.size + size > this.#opts.segmentBytes) segment = this.#roll();
    const offset = this.#next;
    const header = encodeHeader(offset, now, signal, payload);
    try {
      let written = writevSync(this.#fd, [header, payload], segment.size);
      // writev may write less than asked (a nearly full disk): finish it, or fail below.
      if (written < size) {
        const whole = Buffer.concat([header, payload]);
        while (written < size) written += writeSync(this.#fd, whole, written, size - written, segment.size + written);
      }
    } catch (e) {
      // Cut what reached the file back off, so the next record starts where this one did.
      try {
        ftruncateSync(this.#fd, segment.size);
      } catch (cut) {
        this.#failed = `write-ahead log cannot write: ${(cut as Error).message}`;
      }
      return { ok: false, reason: 'failed', message: `write-ahead log write failed: ${(e as Error).message}` };
    }
    segment.size += size;
    this.#next = offset + 1;
    this.#written = { offset: this.#next, segment: segment.base, pos: segment.size };
    this.#pendingBytes += size;
    this.#oldestPendingAt ??= now;
    this.#recent.set(hash, offset, now);
    const durable = this.#durableAt(offset);
    if (!this.#syncing) {
      this.#syncing = true;
      // Requests that arrive in this turn of the event loop share the sync.
      setImmediate(() => void this.#syncLoop());
    }
    return { ok: true, durable };
  }

  /**
   * Gives records appended from now on offsets from `offset` up. The writer calls it at start when the ledger holds
   * a plan that ends past the log's end (a tail a disk lost), so new records never reuse the offsets of that plan's
   * deduplication tokens.
   */
  advanceTo(offset: number): void {
    if (offset <= this.#next) return;
    const idle = this.#durable.offset === this.#written.offset;
    this.#next = offset;
    this.#written = { ...this.#written, offset };
    if (idle) this.#durable = { ...this.#durable, offset };
  }

  /** Calls `listener` whenever more records become durable (the writer reads then). */
  onDurable(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The next durable record after the reader's cursor, or undefined when there is none yet. Corrupt bytes are
   * moved to `dead/` and skipped (see the module doc).
   */
  readNext(): WalRecord | undefined {
    for (;;) {
      const c = this.#cursor;
      const index = this.#segments.findIndex((s) => s.base === c.segment);
      const segment = this.#segments[index];
      if (!segment) return undefined;
      const limit = segment.base === this.#durable.segment ? this.#durable.pos : segment.size;
      if (c.pos >= limit) {
        const next = this.#segments[index + 1];
        if (!next || segment.base === this.#durable.segment) return undefined;
        this.#cursor = { offset: Math.max(c.offset, next.base), segment: next.base, pos: 0 };
        continue;
      }
      const fd = this.#readFdFor(segment);
      const read = readRecord(fd, c.pos, limit);
      if (read && read.header.offset >= c.offset) {
        const { header, payload } = read;
        const bytes = HEADER_BYTES + header.payloadBytes;
        this.#cursor = { offset: header.offset + 1, segment: segment.base, pos: c.pos + bytes };
        return { offset: header.offset, appendedAt: header.appendedAt, signal: header.signal, payload, bytes, next: { ...this.#cursor } };
      }
      const resumeAt = resync(fd, c.pos + 1, limit, c.offset);
      const skipped = resumeAt - c.pos;
      this.#deadLetterBytes(fd, segment, c.pos, skipped, 'corrupt record (CRC or header check failed)');
      this.#cursor = { offset: c.offset, segment: segment.base, pos: resumeAt };
    }
  }

  /** Moves the reader back to `position` (the checkpoint, when a plan is given up and read again). */
  seek(position: WalPosition): void {
    this.#cursor = { ...position };
  }

  /**
   * Everything before `position` is in ClickHouse: records the checkpoint durably, then deletes the segments
   * wholly before it.
   */
  async commit(position: WalPosition): Promise<void> {
    let p = position;
    const index = this.#segments.findIndex((s) => s.base === p.segment);
    const segment = this.#segments[index];
    const following = this.#segments[index + 1];
    // The end of a full segment is the start of the next one.
    if (segment && following && p.pos >= segment.size) p = { offset: Math.max(p.offset, following.base), segment: following.base, pos: 0 };
    // Off the event loop: two fsyncs under ClickHouse's write load took tens of ms, and every request in flight waited.
    await writeDurablyAsync(this.dir, 'checkpoint', JSON.stringify(p) + '\n');
    this.#checkpoint = { ...p };
    // Committed segments stay for the retry window: a restart remembers recent requests from them.
    const keepSince = Date.now() - this.#opts.retryWindowMs;
    while (this.#segments.length > 1 && this.#segments[0]!.base < p.segment && statSync(this.#segments[0]!.path).mtimeMs < keepSince) {
      const old = this.#segments.shift()!;
      if (this.#readFd?.segment === old.base) {
        closeSync(this.#readFd.fd);
        this.#readFd = undefined;
      }
      unlinkSync(old.path);
    }
    this.#recount();
  }

  /** Waits for the last sync, then closes the files. Appends are refused from the start of the call. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#syncing) await new Promise((r) => setTimeout(r, 5));
    for (const fd of this.#sealed) closeSync(fd);
    this.#sealed = [];
    closeSync(this.#fd);
    if (this.#readFd) closeSync(this.#readFd.fd);
    this.#readFd = undefined;
    unlinkSync(join(this.dir, 'lock'));
  }

  #roll(): Segment {
    const base = this.#next;
    const segment = { base, path: join(this.dir, segmentName(base)), size: 0 };
    const fd = openSync(segment.path, 'w+');
    this.#sealed.push(this.#fd);
    this.#fd = fd;
    this.#dirDirty = true;
    this.#segments.push(segment);
    return segment;
  }

  async #syncLoop(): Promise<void> {
    try {
      while (this.#durable.offset < this.#written.offset && !this.#failed) {
        const target = { ...this.#written };
        const sealed = this.#sealed;
        this.#sealed = [];
        const dirDirty = this.#dirDirty;
        this.#dirDirty = false;
        const t0 = performance.now();
        try {
          // Older segments first is not needed: nothing is acknowledged before all of them are synced.
          await Promise.all([...sealed, this.#fd].map((fd) => fdatasyncAsync(fd)));
          if (dirDirty) await fsyncDirAsync(this.dir);
        } catch (e) {
          this.#failed = `write-ahead log sync failed, restart to recover from disk: ${(e as Error).message}`;
          this.#settle(target.offset, new Error(this.#failed));
          return;
        } finally {
          for (const fd of sealed) closeSync(fd);
        }
        const done = this.#settle(target.offset);
        this.#durable = target;
        this.#opts.onSync?.((performance.now() - t0) / 1000, done);
        for (const l of this.#listeners) {
          try {
            l();
          } catch (e) {
            this.#opts.warn?.({ err: (e as Error).message }, 'write-ahead log listener failed');
          }
        }
      }
    } finally {
      this.#syncing = false;
    }
  }

  /** Resolves once the record at `offset` is durable (at once if it is). Waiters stay in offset order. */
  #durableAt(offset: number): Promise<void> {
    if (offset < this.#durable.offset) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let i = this.#waiters.length;
      while (i > 0 && this.#waiters[i - 1]!.offset > offset) i--;
      this.#waiters.splice(i, 0, { offset, resolve, reject });
    });
  }

  /** Remembers the requests of the retry window from the segments on disk (at open). */
  #rememberFromDisk(): void {
    const since = Date.now() - this.#opts.retryWindowMs;
    for (const segment of this.#segments) {
      const fd = openSync(segment.path, 'r');
      try {
        for (let pos = 0; pos < segment.size; ) {
          const r = readRecord(fd, pos, segment.size);
          if (!r) break; // corrupt: the reader deals with it; nothing further here is remembered
          if (r.header.appendedAt >= since) this.#recent.set(requestHash(r.header.signal, r.payload), r.header.offset, r.header.appendedAt);
          pos += HEADER_BYTES + r.header.payloadBytes;
        }
      } finally {
        closeSync(fd);
      }
    }
  }

  /** Settles the waiters of records below `offset`; returns how many. */
  #settle(offset: number, error?: Error): number {
    let n = 0;
    while (n < this.#waiters.length && this.#waiters[n]!.offset < offset) n++;
    const done = this.#waiters.splice(0, n);
    for (const w of done) {
      if (error) w.reject(error);
      else w.resolve();
    }
    if (error) for (const w of this.#waiters.splice(0)) w.reject(error);
    return done.length;
  }

  #readFdFor(segment: Segment): number {
    if (this.#readFd?.segment !== segment.base) {
      if (this.#readFd) closeSync(this.#readFd.fd);
      this.#readFd = { segment: segment.base, fd: openSync(segment.path, 'r') };
    }
    return this.#readFd.fd;
  }

  /** Bytes and age of what is at or after the checkpoint. */
  #recount(): void {
    let bytes = 0;
    for (const s of this.#segments) {
      if (s.base < this.#checkpoint.segment) continue;
      bytes += s.base === this.#checkpoint.segment ? Math.max(0, s.size - this.#checkpoint.pos) : s.size;
    }
    this.#pendingBytes = bytes;
    if (bytes === 0) {
      this.#oldestPendingAt = undefined;
      return;
    }
    // The first pending record's header says when it was appended.
    const segment = this.#segments.find((s) => s.base === this.#checkpoint.segment && this.#checkpoint.pos < s.size) ?? this.#segments.find((s) => s.base > this.#checkpoint.segment && s.size > 0);
    if (!segment) return;
    const pos = segment.base === this.#checkpoint.segment ? this.#checkpoint.pos : 0;
    // Its own fd: the reader's stays on the segment the reader is in (a commit used to move it back, and the
    // next read reopened it).
    const fd = openSync(segment.path, 'r');
    let header: RecordHeader | undefined;
    try {
      header = readHeaderAt(fd, pos);
    } finally {
      closeSync(fd);
    }
    this.#oldestPendingAt = header?.appendedAt ?? this.#oldestPendingAt ?? Date.now();
  }

  #deadLetterBytes(fd: number, segment: Segment, pos: number, length: number, reason: string): void {
    const buf = Buffer.allocUnsafe(length);
    readFully(fd, buf, pos);
    const name = `${segmentName(segment.base)}@${pos}`;
    writeFileSync(join(this.dir, 'dead', `${name}.bin`), buf);
    writeFileSync(join(this.dir, 'dead', `${name}.txt`), `${reason}\nsegment ${segment.path}, bytes ${pos}…${pos + length}\n`);
    this.#opts.warn?.({ segment: segment.path, pos, bytes: length }, `write-ahead log: ${reason}; ${length} bytes moved to dead/`);
    this.#opts.onDeadLetter?.(length, reason);
  }
}

/**
 * Takes the log for this process: two writers appending to one log would interleave records. `lock` holds the
 * owner's PID; a lock whose process is gone (a kill -9, a crash) is taken over. A PID reused by an unrelated
 * process would keep the log locked until that process ends; the message names the PID and the file to check.
 */
function lock(dir: string): void {
  const path = join(dir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number(readFileSync(path, 'utf8').trim());
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
      throw new Error(`write-ahead log ${dir} is in use by process ${owner} (another crowsnest on the same --data-dir?); if that process is not crowsnest, remove ${path}`);
    }
    unlinkSync(path); // stale: its owner is gone
  }
  throw new Error(`could not lock write-ahead log ${dir}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Writes `name` in `dir` atomically and durably: aside, fsynced, renamed over, directory fsynced. */
function writeDurably(dir: string, name: string, content: string): void {
  const tmp = join(dir, `${name}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, name));
  fsyncDir(dir);
}

/** `writeDurably` on libuv's thread pool. */
async function writeDurablyAsync(dir: string, name: string, content: string): Promise<void> {
  const tmp = join(dir, `${name}.tmp`);
  const file = await open(tmp, 'w');
  try {
    await file.writeFile(content);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, join(dir, name));
  await fsyncDirAsync(dir);
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

async function fsyncDirAsync(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function readCheckpoint(dir: string): WalPosition | undefined {
  const path = join(dir, 'checkpoint');
  if (!existsSync(path)) return undefined;
  const p = JSON.parse(readFileSync(path, 'utf8')) as Partial<WalPosition>;
  if (typeof p.offset !== 'number' || typeof p.segment !== 'number' || typeof p.pos !== 'number') throw new Error(`write-ahead log checkpoint ${path} is not a position`);
  return { offset: p.offset, segment: p.segment, pos: p.pos };
}

function readFully(fd: number, buf: Buffer, pos: number): number {
  let n = 0;
  while (n < buf.length) {
    const r = readSync(fd, buf, n, buf.length - n, pos + n);
    if (r === 0) break;
    n += r;
  }
  return n;
}

function readHeaderAt(fd: number, pos: number): RecordHeader | undefined {
  const raw = Buffer.allocUnsafe(HEADER_BYTES);
  return readFully(fd, raw, pos) === HEADER_BYTES ? decodeHeader(raw) : undefined;
}

/** The valid record at `pos` that ends by `limit`, or undefined (torn, corrupt). */
function readRecord(fd: number, pos: number, limit: number): { header: RecordHeader; payload: Buffer } | undefined {
  if (pos + HEADER_BYTES > limit) return undefined;
  const raw = Buffer.allocUnsafe(HEADER_BYTES);
  if (readFully(fd, raw, pos) < HEADER_BYTES) return undefined;
  const header = decodeHeader(raw);
  if (!header || pos + HEADER_BYTES + header.payloadBytes > limit) return undefined;
  const payload = Buffer.allocUnsafe(header.payloadBytes);
  if (readFully(fd, payload, pos + HEADER_BYTES) < header.payloadBytes) return undefined;
  return crcMatches(raw, header, payload) ? { header, payload } : undefined;
}

/** The first position in [from, limit) where a valid record with offset ≥ `minOffset` starts, else `limit`. */
function resync(fd: number, from: number, limit: number, minOffset: number): number {
  for (let p = from; p + HEADER_BYTES <= limit; p++) {
    const r = readRecord(fd, p, limit);
    if (r && r.header.offset >= minOffset) return p;
  }
  return limit;
}

/**
 * Scans the newest segment from `start`, truncates a torn tail, and returns the offset the next record gets.
 * A bad record followed by valid ones is left for the reader (resync); only a tail with no valid record is cut.
 */
function recoverTail(segment: Segment, start: WalPosition, warn: WalOptions['warn']): number {
  const fd = openSync(segment.path, 'r+');
  try {
    let pos = start.pos;
    let next = start.offset;
    while (pos < segment.size) {
      const r = readRecord(fd, pos, segment.size);
      if (r && r.header.offset >= next) {
        next = r.header.offset + 1;
        pos += HEADER_BYTES + r.header.payloadBytes;
        continue;
      }
      const resumeAt = resync(fd, pos + 1, segment.size, next);
      if (resumeAt < segment.size) {
        pos = resumeAt; // corruption inside: the reader moves these bytes to dead/
        continue;
      }
      warn?.({ segment: segment.path, at: pos, bytes: segment.size - pos }, 'write-ahead log: cut a torn tail (a record a crash interrupted; it was never acknowledged)');
      ftruncateSync(fd, pos);
      fsyncSync(fd);
      segment.size = pos;
      break;
    }
    return next;
  } finally {
    closeSync(fd);
  }
}
