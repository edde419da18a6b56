/**
 * The agent's bounded on-disk queue (`DurableQueue`, agents/core/contracts.ts) for data that cannot be produced
 * again (scrapes, Kubernetes events) while the gateway is down or slow.
 *
 * Layout: append-only segment files `seg-<seq>.log` (records: magic, length, CRC-32, payload; record.ts) and
 * `ack.json`, the position (segment, offset) up to which the gateway has acknowledged.
 *
 * - Enqueue is group-committed: batches arriving while a write is in flight are written together and share one
 *   fsync; each promise resolves only once its bytes are durable. Over `maxBytes` of unacknowledged records the
 *   enqueue rejects at once with `QueueFullError` (the caller counts the batch as lost): the bound is on disk use,
 *   and nothing waits in memory.
 * - One reader sends records in order through the `Sink` (which retries until acknowledged or refused for good),
 *   then moves the ack position (written to a temp file, fsynced, renamed) and deletes segments it has passed. A
 *   refused batch is counted and skipped: retrying cannot help it, and it must not block what follows.
 * - Recovery at open: segments before the ack position are deleted (a crash between the ack and the unlink); each
 *   remaining segment is scanned: a torn tail (a crash mid-write) is cut off, corrupt records are skipped and
 *   counted, and a segment that had corruption is rewritten with its valid records only, so the reader meets only
 *   records that check out. Writing resumes in a new segment.
 * - Commits: a batch may carry its producer's state (`QueueCommit`: the events collector's resourceVersion and
 *   the occurrence keys the batch stores), written in the same record, so the batch and the state it advances to
 *   are durable together: a crash can never leave one without the other. `lastCommit(stream)` gives the newest
 *   at open (and after). A commit outlives its record: before a segment is deleted, the newest commit of each
 *   stream in it goes to `commits.json` (written durably before the ack moves past the segment), so the newest
 *   is always either in a segment still on disk or in that file.
 * - Delivery is at-least-once across a crash: a batch sent but not yet recorded as acknowledged when the agent dies
 *   is sent again after the restart (one batch at most, as the reader sends one at a time).
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { type FileHandle, open, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '#core/log.ts';
import { type Batch, type DurableQueue, QueueFullError, type Sink } from '../core/contracts.ts';
import { HEADER_BYTES, type QueueCommit, decodeRecord, encodeRecord, payloadLength, scanSegment } from './record.ts';

export type { QueueCommit } from './record.ts';

/** A `DurableQueue` whose batches may carry their producer's state (see the module header). */
export interface CommittingQueue extends DurableQueue {
  /** As `DurableQueue.enqueue`; `commit` becomes durable in the same write as the batch. */
  enqueue(batch: Batch, commit?: QueueCommit): Promise<void>;
  /** The newest commit of `stream` durable in this queue (a copy), or undefined if none was ever made. */
  lastCommit(stream: string): Uint8Array | undefined;
}

export interface DiskQueueOptions {
  /** Directory of the segments and the ack position (created if missing). One queue per directory. */
  dir: string;
  sink: Sink;
  log: Logger;
  registry: Registry;
  /** Bytes of unacknowledged records kept at most; more is refused with `QueueFullError`. @default 256 MiB */
  maxBytes?: number;
  /** A segment is closed and a new one started past this size. @default 8 MiB */
  segmentBytes?: number;
  /** Wait after a failed disk read before trying again. @default 1000 */
  retryDelayMs?: number;
}

interface Segment {
  seq: number;
  /** Bytes written (and durable). */
  size: number;
  /** The newest commit of each stream among this segment's records. */
  commits?: Map<string, Uint8Array>;
}

interface Pending {
  record: Buffer;
  commit: QueueCommit | undefined;
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface QueueMetrics {
  bytes: Gauge;
  records: Gauge;
  enqueued: Counter;
  sent: Counter<'outcome'>;
  rejected: Counter;
  dropped: Counter<'reason'>;
  fsyncs: Counter;
}

function createMetrics(registry: Registry): QueueMetrics {
  const registers = [registry];
  return {
    bytes: new Gauge({ name: 'crowsnest_agent_queue_bytes', help: 'Bytes of records in the on-disk queue not yet acknowledged by the gateway.', registers }),
    records: new Gauge({ name: 'crowsnest_agent_queue_records', help: 'Records in the on-disk queue not yet acknowledged by the gateway.', registers }),
    enqueued: new Counter({ name: 'crowsnest_agent_queue_enqueued_total', help: 'Batches made durable in the on-disk queue.', registers }),
    sent: new Counter({ name: 'crowsnest_agent_queue_sent_total', help: 'Queued batches settled by the gateway, by outcome (ok, refused).', labelNames: ['outcome'], registers }),
    rejected: new Counter({ name: 'crowsnest_agent_queue_full_total', help: 'Batches refused because the queue was at its byte bound (the caller counts them as lost).', registers }),
    dropped: new Counter({
      name: 'crowsnest_agent_queue_dropped_total',
      help: 'Queued records lost, by reason: corrupt (failed its CRC at recovery or read), torn (a write cut short by a crash, never acknowledged to the caller).',
      labelNames: ['reason'],
      registers,
    }),
    fsyncs: new Counter({ name: 'crowsnest_agent_queue_fsyncs_total', help: 'fsync calls of the queue (one per group of enqueues).', registers }),
  };
}

const segName = (seq: number) => `seg-${String(seq).padStart(12, '0')}.log`;
const SEG = /^seg-(\d{12})\.log$/;

const COMMITS_FILE = 'commits.json';

export class DiskQueue implements CommittingQueue {
  readonly #dir: string;
  readonly #sink: Sink;
  readonly #log: Logger;
  readonly #maxBytes: number;
  readonly #segmentBytes: number;
  readonly #retryDelayMs: number;
  readonly #m: QueueMetrics;
  /** Segments in order; the last is the one written to. */
  readonly #segments: Segment[] = [];
  #writeFd: FileHandle | undefined;
  #pending: Pending[] = [];
  #pendingBytes = 0;
  #writing: Promise<void> | undefined;
  /** Bytes and records not yet acknowledged. */
  #liveBytes = 0;
  #liveRecords = 0;
  /** Read (and ack) position. */
  #readSeq: number;
  #readOffset: number;
  #wake: (() => void) | undefined;
  #abort = new AbortController();
  #reader: Promise<void> | undefined;
  #closed = false;
  /** The newest durable commit per stream. */
  readonly #commits = new Map<string, Uint8Array>();
  /** The commits carried over from deleted segments (what commits.json holds). */
  readonly #carried = new Map<string, Uint8Array>();

  private constructor(opts: DiskQueueOptions, ack: { seq: number; offset: number }) {
    this.#dir = opts.dir;
    this.#sink = opts.sink;
    this.#log = opts.log;
    this.#maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
    this.#segmentBytes = opts.segmentBytes ?? 8 * 1024 * 1024;
    this.#retryDelayMs = opts.retryDelayMs ?? 1000;
    this.#m = createMetrics(opts.registry);
    this.#readSeq = ack.seq;
    this.#readOffset = ack.offset;
  }

  /** Opens (recovering what a crash left) the queue in `opts.dir`. Call `start()` to begin sending. */
  static async open(opts: DiskQueueOptions): Promise<DiskQueue> {
    mkdirSync(opts.dir, { recursive: true });
    const ack = readAck(opts.dir, opts.log);
    const q = new DiskQueue(opts, ack);
    q.#recover();
    const seq = (q.#segments.at(-1)?.seq ?? ack.seq) + 1;
    await q.#openSegment(seq);
    q.#gauges();
    return q;
  }

  /** Unacknowledged bytes in the queue. */
  get bytes(): number {
    return this.#liveBytes;
  }
  /** Unacknowledged records in the queue. */
  get records(): number {
    return this.#liveRecords;
  }

  lastCommit(stream: string): Uint8Array | undefined {
    const c = this.#commits.get(stream);
    return c && Uint8Array.from(c);
  }

  enqueue(batch: Batch, commit?: QueueCommit): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('the queue is closed'));
    const record = encodeRecord(batch, commit);
    if (this.#liveBytes + this.#pendingBytes + record.length > this.#maxBytes) {
      this.#m.rejected.inc();
      return Promise.reject(new QueueFullError(`the on-disk queue holds ${this.#liveBytes + this.#pendingBytes} of its ${this.#maxBytes} bytes`));
    }
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ record, commit: commit && { stream: commit.stream, data: Uint8Array.from(commit.data) }, resolve, reject });
      this.#pendingBytes += record.length;
      this.#writing ??= this.#flush();
    });
  }

  /** Starts the reader: records are sent in order through the sink. */
  start(): void {
    this.#reader ??= this.#read().catch((e: unknown) => {
      if (!this.#closed) this.#log.error({ err: e }, 'queue reader stopped');
    });
  }

  /** Stops the reader (aborting a send in flight: that batch stays queued) and waits for pending writes. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#abort.abort();
    this.#wake?.();
    await this.#writing;
    await this.#reader;
    await this.#writeFd?.close();
    this.#writeFd = undefined;
  }

  // ---- writing -------------------------------------------------------------------------------------------------

  async #flush(): Promise<void> {
    while (this.#pending.length > 0) {
      const group = this.#pending;
      this.#pending = [];
      const bytes = this.#pendingBytes;
      this.#pendingBytes = 0;
      try {
        let current = this.#segments.at(-1)!;
        if (current.size > 0 && current.size + bytes > this.#segmentBytes) {
          await this.#openSegment(current.seq + 1);
          current = this.#segments.at(-1)!;
        }
        const data = group.length === 1 ? group[0]!.record : Buffer.concat(group.map((p) => p.record), bytes);
        const fd = this.#writeFd!;
        let written = 0;
        while (written < data.length) written += (await fd.write(data, written, data.length - written, current.size + written)).bytesWritten;
        await fd.datasync();
        this.#m.fsyncs.inc();
        current.size += data.length;
        for (const p of group) {
          if (!p.commit) continue;
          (current.commits ??= new Map()).set(p.commit.stream, p.commit.data);
          this.#commits.set(p.commit.stream, p.commit.data);
        }
        this.#liveBytes += data.length;
        this.#liveRecords += group.length;
        this.#m.enqueued.inc(group.length);
        this.#gauges();
        for (const p of group) p.resolve();
        this.#wake?.();
      } catch (e) {
        // The segment may now end in a partial write: continue in a fresh one so later records stay readable
        // (recovery cuts the partial tail). The callers learn their batches are not durable.
        for (const p of group) p.reject(e);
        this.#log.error({ err: e }, 'queue write failed');
        try {
          await this.#openSegment(this.#segments.at(-1)!.seq + 1);
        } catch (e2) {
          this.#log.error({ err: e2 }, 'queue could not start a new segment');
        }
      }
    }
    this.#writing = undefined;
  }

  async #openSegment(seq: number): Promise<void> {
    await this.#writeFd?.close();
    this.#writeFd = await open(join(this.#dir, segName(seq)), 'w');
    this.#segments.push({ seq, size: 0 });
    syncDir(this.#dir);
  }

  // ---- reading ---------------------------------------------------------------------------------------------------

  async #read(): Promise<void> {
    const signal = this.#abort.signal;
    while (!this.#closed) {
      const seg = this.#segments.find((s) => s.seq === this.#readSeq) ?? this.#segments.find((s) => s.seq > this.#readSeq);
      if (!seg) return;
      if (seg.seq !== this.#readSeq) {
        this.#readSeq = seg.seq;
        this.#readOffset = 0;
      }
      if (this.#readOffset >= seg.size) {
        if (seg === this.#segments.at(-1)) {
          await new Promise<void>((resolve) => (this.#wake = resolve));
          this.#wake = undefined;
          continue;
        }
        await this.#passSegment(seg);
        continue;
      }
      let record: { batch: Batch | undefined; size: number };
      try {
        record = await this.#readRecord(seg);
      } catch (e) {
        this.#log.warn({ err: e, segment: segName(seg.seq), offset: this.#readOffset }, 'queue read failed; retrying');
        await sleep(this.#retryDelayMs, signal);
        continue;
      }
      if (record.batch) {
        let settled;
        try {
          settled = await this.#sink.send(record.batch, signal);
        } catch (e) {
          if (this.#closed) return;
          this.#log.warn({ err: e }, 'queue send failed; retrying');
          await sleep(this.#retryDelayMs, signal);
          continue;
        }
        this.#m.sent.inc({ outcome: settled.ok ? 'ok' : 'refused' });
        if (!settled.ok) this.#log.warn({ status: settled.status, reason: settled.reason, items: record.batch.items }, 'gateway refused a queued batch; dropped');
      } else {
        this.#m.dropped.inc({ reason: 'corrupt' });
        this.#log.warn({ segment: segName(seg.seq), offset: this.#readOffset }, 'queue record failed its checksum; skipped');
      }
      this.#readOffset += record.size;
      this.#liveBytes -= record.size;
      this.#liveRecords -= 1;
      this.#gauges();
      await this.#saveAck();
    }
  }

  async #readRecord(seg: Segment): Promise<{ batch: Batch | undefined; size: number }> {
    const fh = await open(join(this.#dir, segName(seg.seq)), 'r');
    try {
      const header = Buffer.alloc(HEADER_BYTES);
      await fh.read(header, 0, HEADER_BYTES, this.#readOffset);
      const length = payloadLength(header);
      // Recovery left only valid records before `size`; a header that does not parse now means the disk changed
      // under us: skip to the segment's end, counted as corrupt.
      if (length === undefined || this.#readOffset + HEADER_BYTES + length > seg.size) return { batch: undefined, size: seg.size - this.#readOffset };
      const payload = Buffer.alloc(length);
      await fh.read(payload, 0, length, this.#readOffset + HEADER_BYTES);
      return { batch: decodeRecord(header, payload)?.batch, size: HEADER_BYTES + length };
    } finally {
      await fh.close();
    }
  }

  /** Everything in `seg` is acknowledged: the ack moves to the next segment, then the file goes. */
  async #passSegment(seg: Segment): Promise<void> {
    const next = this.#segments[this.#segments.indexOf(seg) + 1]!;
    if (seg.commits && seg.commits.size > 0) {
      // Carried over before the ack leaves the segment: recovery deletes segments behind the ack unread.
      for (const [stream, data] of seg.commits) this.#carried.set(stream, data);
      const body = JSON.stringify(Object.fromEntries([...this.#carried].map(([k, v]) => [k, Buffer.from(v).toString('base64')])));
      await writeFile(join(this.#dir, `${COMMITS_FILE}.tmp`), body, { flush: true });
      await rename(join(this.#dir, `${COMMITS_FILE}.tmp`), join(this.#dir, COMMITS_FILE));
      syncDir(this.#dir);
    }
    this.#readSeq = next.seq;
    this.#readOffset = 0;
    await this.#saveAck();
    this.#segments.splice(this.#segments.indexOf(seg), 1);
    await unlink(join(this.#dir, segName(seg.seq))).catch((e: unknown) => this.#log.warn({ err: e }, 'could not delete an acknowledged queue segment'));
  }

  async #saveAck(): Promise<void> {
    const tmp = join(this.#dir, 'ack.json.tmp');
    await writeFile(tmp, JSON.stringify({ seq: this.#readSeq, offset: this.#readOffset }), { flush: true });
    await rename(tmp, join(this.#dir, 'ack.json'));
  }

  // ---- recovery ----------------------------------------------------------------------------------------------------

  #recover(): void {
    for (const [stream, data] of readCommits(this.#dir, this.#log)) {
      this.#carried.set(stream, data);
      this.#commits.set(stream, data);
    }
    const seqs = readdirSync(this.#dir)
      .map((f) => SEG.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    for (const seq of seqs) {
      const path = join(this.#dir, segName(seq));
      if (seq < this.#readSeq) {
        rmSync(path, { force: true }); // acknowledged; the crash came between the ack and the unlink
        continue;
      }
      const data = readFileSync(path);
      const scan = scanSegment(data);
      const from = seq === this.#readSeq ? this.#readOffset : 0;
      const live = scan.records.filter((r) => r.offset >= from);
      // Every record still on disk counts for the commits, acknowledged or not: they are newer than commits.json.
      const commits = new Map<string, Uint8Array>();
      for (const r of scan.records) {
        const commit = decodeRecord(data.subarray(r.offset, r.offset + HEADER_BYTES), data.subarray(r.offset + HEADER_BYTES, r.offset + r.size))?.commit;
        if (commit) commits.set(commit.stream, Uint8Array.from(commit.data));
      }
      for (const [stream, c] of commits) this.#commits.set(stream, c);
      if (scan.corrupt > 0) this.#m.dropped.inc({ reason: 'corrupt' }, scan.corrupt);
      if (scan.tornBytes > 0) this.#m.dropped.inc({ reason: 'torn' });
      if (scan.corrupt > 0 || scan.tornBytes > 0) {
        this.#log.warn({ segment: segName(seq), corrupt: scan.corrupt, tornBytes: scan.tornBytes, kept: live.length }, 'queue segment repaired at recovery');
      }
      if (scan.corrupt > 0) {
        // Rewrite with the live records only (the ack offset then becomes 0 for this segment).
        const kept = Buffer.concat(live.map((r) => data.subarray(r.offset, r.offset + r.size)));
        writeDurably(path, kept);
        if (seq === this.#readSeq) this.#readOffset = 0;
        this.#segments.push({ seq, size: kept.length, commits });
      } else {
        if (scan.tornBytes > 0) truncateDurably(path, scan.validEnd);
        this.#segments.push({ seq, size: scan.validEnd, commits });
      }
      for (const r of live) this.#liveBytes += r.size;
      this.#liveRecords += live.length;
    }
    if (this.#readOffset > 0 && !this.#segments.some((s) => s.seq === this.#readSeq)) this.#readOffset = 0;
  }

  #gauges(): void {
    this.#m.bytes.set(this.#liveBytes);
    this.#m.records.set(this.#liveRecords);
  }
}

function readAck(dir: string, log: Logger): { seq: number; offset: number } {
  const path = join(dir, 'ack.json');
  if (!existsSync(path)) return { seq: 0, offset: 0 };
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as { seq?: unknown; offset?: unknown };
    if (Number.isSafeInteger(v.seq) && Number.isSafeInteger(v.offset) && (v.seq as number) >= 0 && (v.offset as number) >= 0) {
      return { seq: v.seq as number, offset: v.offset as number };
    }
  } catch {
    // fall through: an unreadable ack file means "from the start" (at-least-once)
  }
  log.warn({ path }, 'queue ack position unreadable; sending every queued record again');
  return { seq: 0, offset: 0 };
}

function readCommits(dir: string, log: Logger): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const path = join(dir, COMMITS_FILE);
  if (!existsSync(path)) return out;
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    for (const [stream, b64] of Object.entries(v)) if (typeof b64 === 'string') out.set(stream, Uint8Array.from(Buffer.from(b64, 'base64')));
  } catch {
    // Written by rename, so never torn; unreadable means the disk changed under us. The producers fall back to
    // their own state files (at-least-once).
    log.warn({ path }, 'queue commits file unreadable; ignored');
  }
  return out;
}

function writeDurably(path: string, data: Buffer): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, data, { flush: true });
  renameSync(tmp, path);
  syncDir(join(path, '..'));
}

function truncateDurably(path: string, size: number): void {
  const fd = openSync(path, 'r+');
  try {
    // Cut, then fsync, so the cut survives a second crash.
    ftruncateSync(fd, size);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}
