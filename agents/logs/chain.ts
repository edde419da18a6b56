/**
 * One chain: a container's log over its rotations (`…/<container>/0.log` and the files it was renamed into),
 * read in order, joined into records (join.ts), batched and sent with one batch in flight; the frontier advances
 * when the gateway acknowledged a batch. Many chains run side by side; each is small and owns its files.
 *
 * Reading. Files are read with positional reads, in chain order: a rotated file is read to its end before the
 * next, so a partial line cut by a rotation is joined with its end in the new file. A rotated file is finished
 * once it is at its end and the next file has data (the runtime reopened), or after `rotateWaitMs` without growth.
 * The file's descriptor is held from discovery on, so a file deleted after rotation is still read to its end.
 *
 * Rotation by copytruncate (the file shrinks under us): the copy has the file's first bytes, so the chain looks
 * for it beside the file and reads what it had not read yet from the copy, then starts the truncated file over at
 * 0. Without a copy the bytes between the last read and the truncation are counted lost (`copytruncate`).
 *
 * Sending. Every batch is written to the checkpoint (where it ends, its resource, its observed time) before it is
 * sent, with the timer decisions (records closed by a timeout) that shaped it. A restart re-reads from the
 * frontier and rebuilds that batch into the same bytes, so a batch the gateway stored whose acknowledgement the
 * crash lost is recognised by the gateway as a retry. After an acknowledgement the frontier moves to the first
 * record not acknowledged, and per stream `skip` remembers where acknowledged records end (see checkpoint.ts).
 *
 * Backpressure: reading stops while the sink is unhealthy (the files are the buffer), while a full batch waits,
 * and while the source's memory budget is spent.
 *
 * Memory: a record is encoded into its batch (encode.ts `LogRecordsWriter`) as soon as it is closed; the batch
 * keeps only what its acknowledgement needs (where it starts and ends, per stream where its records end, the bytes
 * it holds). The objects a line makes (its text, entry, record) die within the read that made them, in V8's young
 * generation, instead of living through the batch's linger and filling the old generation.
 */
import { closeSync, fstatSync, openSync, readSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { constants as zlibConstants, gzipSync } from 'node:zlib';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '#core/log.ts';
import type { Batch, Settled, Sink } from '../core/contracts.ts';
import { type ChainState, type FileState, type InflightState, type Pos, cmpPos } from './checkpoint.ts';
import { isRotatedName } from './discover.ts';
import { type Attr, LogRecordsWriter } from './encode.ts';
import { Assembler, type Line, type MultilineRule, type Rec } from './join.ts';
import type { LogMetrics, LossReason } from './metrics.ts';
import { parseLine, type Stream } from './parse.ts';
import { toOutRecord } from './record.ts';

export const FP_BYTES = 256;
export const SCOPE_NAME = 'crowsnest/agent/logs';
/** Complete (compressed) batches that may wait per container behind the one in flight. */
const MAX_QUEUED = 4;

export interface ChainOptions {
  maxLineBytes: number;
  maxRecordBytes: number;
  batchMaxRecords: number;
  batchMaxBytes: number;
  /** How long a batch that is not full waits for more records before it is sent (the added latency, at most). */
  batchLingerMs: number;
  /** A multiline record or a partial line waiting longer than this is closed. */
  flushTimeoutMs: number;
  /** How long to wait for a rotated file to stop growing when the next file stays empty. */
  rotateWaitMs: number;
  maxOpenRotated: number;
  readChunkBytes: number;
  /** Pending records behind an open one before that one is closed. */
  maxPending: number;
  /** Compress each batch (gzip level 1) once it is complete, so only the compressed bytes wait for the gateway. */
  gzip: boolean;
}

export interface ChainDeps {
  sink: Sink;
  commit(): Promise<void>;
  /** A write soon, not waited for (acknowledgements). */
  commitLater(): void;
  metrics: LogMetrics;
  log: Logger;
  opts: ChainOptions;
  multiline: MultilineRule | undefined;
  /** Resource attributes for this chain now (path, node, pod directory). */
  resource(): [string, string][];
  /** Metric labels. */
  labels: { namespace: string; pod: string };
  /** Whether reading may go on (sink healthy, memory budget left). */
  mayRead(): boolean;
  /** Counts bytes held against the source's budget. */
  hold(delta: number): void;
  fileOpened(delta: number): void;
}

interface TailFile extends FileState {
  fd: number | undefined;
  readOff: number;
  /** Read no further than this (the file was given up here). */
  stopAt: number | undefined;
  done: boolean;
  lastGrowthAt: number;
  /** Known from a scan at the chain's canonical path. */
  canonical: boolean;
  /** From the checkpoint, not yet seen on disk since the restart. */
  unverified: boolean;
  /** Not on disk any more (or its inode now holds another file). */
  gone: boolean;
}

/** A batch being built, sealed, or in flight: its records as encoded bytes, and what its acknowledgement needs. */
class PendingBatch {
  readonly records: LogRecordsWriter;
  constructor(sizeHint = 0) {
    this.records = new LogRecordsWriter(sizeHint);
  }
  /** Records in it (also `records.count`, kept apart so a finished batch still knows). */
  count = 0;
  /** Text bytes of its records, held against the source's budget until the acknowledgement. */
  held = 0;
  /** For the batch limits: text bytes plus a per-record overhead. */
  sizeBytes = 0;
  /** When its first record arrived (ms), for the linger. */
  since = 0;
  first: Pos | undefined;
  /** Start of its last record: where a rebuilt batch ends (`InflightState.cutAt`). */
  last: Pos | undefined;
  /** Per stream, where its last record ends (the acknowledgement's `skip`). */
  readonly ends: Partial<Record<Stream, Pos>> = {};
  /** The observed time of its records without a time of their own (ns; 0n until one arrives). */
  observedNs = 0n;
  /** Set when it is complete (sealed or dispatched); a retry sends the same state and bytes. */
  state: InflightState | undefined;
  /** The request, once complete: gzip-compressed (its own buffer) or a view of `records`' buffer. */
  body: Buffer | undefined;
  /** Bytes of its encoded records, once complete. */
  encoded = 0;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('base64');

function readAt(fd: number, len: number, pos: number, into?: Buffer): Buffer {
  const buf = into !== undefined && into.length >= len ? into : Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return got === len && buf.length === len ? buf : buf.subarray(0, got);
}

/**
 * The buffer every chain reads its chunks into. Reads and their parsing are synchronous, and nothing keeps a view of
 * a chunk past its parsing (lines become strings, an unfinished line is copied), so one buffer serves all chains;
 * a fresh 256 KiB buffer per read was 16 MB/s of allocation at 80,000 lines/s, which the allocator kept in the
 * process's resident set.
 */
let readBuffer = Buffer.alloc(0);
function sharedReadBuffer(len: number): Buffer {
  if (readBuffer.length < len) readBuffer = Buffer.allocUnsafeSlow(len);
  return readBuffer;
}

export function fingerprint(fd: number, size: number): { fp: string; fpLen: number } {
  const fpLen = Math.min(size, FP_BYTES);
  return { fp: sha(readAt(fd, fpLen, 0)), fpLen };
}

/** Lines (newlines) in `[from, to)` of a file: what giving it up loses. */
function countLines(fd: number, from: number, to: number): number {
  let n = 0;
  const buf = sharedReadBuffer(256 * 1024);
  for (let pos = from; pos < to; ) {
    const got = readSync(fd, buf, 0, Math.min(buf.length, to - pos), pos);
    if (got === 0) break;
    for (let i = buf.indexOf(10, 0); i !== -1 && i < got; i = buf.indexOf(10, i + 1)) n++;
    pos += got;
  }
  return n;
}

export class Chain {
  readonly key: string;
  readonly #deps: ChainDeps;
  readonly #asm: Assembler;
  #nextSeq: number;
  #files: TailFile[] = [];
  #frontier: Pos;
  #skip: Partial<Record<Stream, Pos>>;
  #breaks: { stream: Stream; at: Pos }[];
  #ignored: { dev: string; ino: string }[];
  /** Files read to their end and acknowledged, still on disk: a scan must not take them for new ones. */
  #finished: { dev: string; ino: string; fp: string; fpLen: number }[];
  /** Identities offered by the scan in progress, to forget finished and ignored files that are gone. */
  #seen = new Set<string>();
  /** The batch in flight (or about to be), as checkpointed. */
  #inflight: InflightState | undefined;
  /** A batch from before a restart that must be rebuilt exactly. */
  #replay: InflightState | undefined;
  #carry: Buffer | undefined;
  #carryStart = 0;
  /** The carried line is over the limit: its rest is dropped up to its newline. */
  #overlong = false;
  #building = new PendingBatch();
  /** Encoded bytes of the last batch sent: the next one's buffer is taken that large. */
  #lastBatchBytes = 0;
  /** Complete batches waiting for the one in flight, oldest first (compressed: a few tens of KB each). */
  #queue: PendingBatch[] = [];
  /** A batch whose send failed unexpectedly (a sink bug), sent again before anything else. */
  #retry: PendingBatch | undefined;
  #sending: Promise<void> | undefined;
  #held = 0;
  #readCount = 0;
  readonly #abort = new AbortController();
  #closed = false;
  #wake: (() => void) | undefined;
  /** No file at the canonical path any more (the container is gone). */
  ended = false;

  constructor(key: string, deps: ChainDeps, saved?: ChainState) {
    this.key = key;
    this.#deps = deps;
    this.#asm = new Assembler({ multiline: deps.multiline, maxRecordBytes: deps.opts.maxRecordBytes, maxPending: deps.opts.maxPending });
    this.#asm.onForced = (rec) => this.#breaks.push({ stream: rec.stream, at: rec.end });
    this.#nextSeq = saved?.nextSeq ?? 0;
    this.#frontier = saved?.frontier ?? { seq: 0, off: 0 };
    this.#skip = { ...saved?.skip };
    this.#breaks = [...(saved?.breaks ?? [])];
    for (const b of this.#breaks) this.#asm.addBreak(b.stream, b.at);
    this.#ignored = [...(saved?.ignored ?? [])];
    this.#finished = [...(saved?.finished ?? [])];
    this.#replay = saved?.inflight;
    for (const f of saved?.files ?? []) {
      this.#files.push({
        ...f,
        fd: undefined,
        readOff: f.seq === this.#frontier.seq ? this.#frontier.off : 0,
        stopAt: undefined,
        done: false,
        lastGrowthAt: Date.now(),
        canonical: false,
        unverified: true,
        gone: false,
      });
    }
  }

  get labels() {
    return this.#deps.labels;
  }

  /** The checkpoint record of this chain. */
  state(): ChainState {
    return {
      key: this.key,
      nextSeq: this.#nextSeq,
      frontier: this.#frontier,
      skip: this.#skip,
      ...(this.#inflight ?? this.#replay ? { inflight: this.#inflight ?? this.#replay } : {}),
      breaks: this.#breaks,
      files: this.#files
        .filter((f) => f.seq >= this.#frontier.seq)
        .map(({ seq, dev, ino, fp, fpLen, path, size }) => ({ seq, dev, ino, fp, fpLen, path, size })),
      ignored: this.#ignored,
      finished: this.#finished,
    };
  }

  #lose(reason: LossReason, lines: number, bytes: number): void {
    const l = { ...this.#deps.labels, reason };
    if (lines > 0) this.#deps.metrics.lostLines.inc(l, lines);
    if (bytes > 0) this.#deps.metrics.lostBytes.inc(l, bytes);
    this.#deps.log.warn({ chain: this.key, reason, lines, bytes }, 'log lines lost');
  }

  /**
   * A file found by a scan. `first`: the first scan after start, with `readFromEnd` for chains new then.
   * Returns false when the file is ignored (a copytruncate copy, or already known).
   */
  offer(path: string, st: { dev: bigint; ino: bigint; size: bigint; nlink: bigint }, canonicalPath: boolean, readFromEnd: boolean): void {
    const dev = String(st.dev);
    const ino = String(st.ino);
    this.#seen.add(`${dev}:${ino}`);
    const fin = this.#finished.findIndex((f) => f.dev === dev && f.ino === ino);
    if (fin !== -1) {
      const f = this.#finished[fin]!;
      if (this.#sameStart(path, f.fp, f.fpLen)) return;
      this.#finished.splice(fin, 1); // the inode now holds another file
    }
    const same = (f: TailFile) => f.dev === dev && f.ino === ino && !f.gone;
    const known = this.#files.find((f) => same(f) && !f.done) ?? this.#files.find(same);
    if (known !== undefined && known.unverified) this.#verify(known, path);
    if (known !== undefined && !known.gone) {
      known.path = path;
      known.canonical = canonicalPath;
      if (canonicalPath) for (const f of this.#files) if (f !== known) f.canonical = false;
      return;
    }
    if (this.#ignored.some((i) => i.dev === dev && i.ino === ino)) return;
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return; // gone between the scan and the open: never seen, nothing to count
    }
    const fst = fstatSync(fd, { bigint: true });
    if (String(fst.ino) !== ino || String(fst.dev) !== dev) {
      closeSync(fd);
      return;
    }
    const size = Number(fst.size);
    const { fp, fpLen } = fingerprint(fd, size);
    if (!canonicalPath && isRotatedName(basename(path))) {
      // Back from a restart, a checkpointed file not verified yet whose first bytes this copy has: a copytruncate
      // happened while the agent was down. The copy is that file; the truncated original is a new file.
      const orig = this.#files.find((f) => f.unverified && f.fpLen > 0 && f.fpLen <= fpLen && f.fp === sha(readAt(fd, f.fpLen, 0)));
      if (orig !== undefined) {
        Object.assign(orig, { dev, ino, path, fd, size, unverified: false, canonical: false });
        this.#deps.fileOpened(1);
        return;
      }
    }
    // A copytruncate copy: a rotated name with the same first bytes as a file of this chain.
    if (!canonicalPath && isRotatedName(basename(path)) && fpLen > 0 && this.#files.some((f) => !f.done && f.fpLen > 0 && f.fpLen <= fpLen && f.fp === sha(readAt(fd, f.fpLen, 0)))) {
      this.#ignored.push({ dev, ino });
      closeSync(fd);
      return;
    }
    this.#deps.fileOpened(1);
    this.#files.push({
      seq: this.#nextSeq++,
      dev,
      ino,
      fp,
      fpLen,
      path,
      size,
      fd,
      readOff: readFromEnd ? size : 0,
      stopAt: undefined,
      done: false,
      lastGrowthAt: Date.now(),
      canonical: canonicalPath,
      unverified: false,
      gone: false,
    });
    if (canonicalPath) for (const f of this.#files) if (f !== this.#files.at(-1)) f.canonical = false;
    if (readFromEnd) {
      // Only what is written from now on: earlier files are finished, the frontier is this file's end.
      for (const f of this.#files) if (f !== this.#files.at(-1)) f.done = true;
      this.#frontier = { seq: this.#files.at(-1)!.seq, off: size };
    }
    this.#enforceRotatedBound();
    this.#wake?.();
  }

  #sameStart(path: string, fp: string, fpLen: number): boolean {
    try {
      const fd = openSync(path, 'r');
      try {
        return sha(readAt(fd, fpLen, 0)) === fp && fstatSync(fd).size >= fpLen;
      } finally {
        closeSync(fd);
      }
    } catch {
      return false;
    }
  }

  /** A scan begins: identities offered until `scanEnd` are on disk. */
  scanStart(): void {
    this.#seen.clear();
  }

  /** A scan ended: finished and ignored files it did not find are gone, and forgotten. */
  scanEnd(): void {
    const on = (x: { dev: string; ino: string }) => this.#seen.has(`${x.dev}:${x.ino}`);
    this.#finished = this.#finished.filter(on);
    this.#ignored = this.#ignored.filter(on);
  }

  /** Checks a checkpointed file against what is at `path` now (same inode and same first bytes). */
  #verify(f: TailFile, path: string): void {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return;
    }
    const st = fstatSync(fd, { bigint: true });
    if (String(st.dev) === f.dev && String(st.ino) === f.ino && Number(st.size) >= f.fpLen && sha(readAt(fd, f.fpLen, 0)) === f.fp) {
      f.fd = fd;
      f.unverified = false;
      f.path = path;
      f.size = Number(st.size);
      if (f.readOff > f.size) f.readOff = f.size; // cannot happen for the same file; guards a bad checkpoint
      this.#deps.fileOpened(1);
    } else {
      closeSync(fd);
      // The inode was reused by another file (or the file was truncated while the agent was down): ours is gone.
      this.#gone(f);
    }
  }

  /** A checkpointed file was not found after the first scan: what it held past the frontier is lost. */
  settleUnverified(): void {
    for (const f of this.#files) if (f.unverified) this.#gone(f);
    this.#files.sort((a, b) => a.seq - b.seq);
  }

  #gone(f: TailFile): void {
    f.unverified = false;
    const bytes = Math.max(0, f.size - f.readOff);
    // Lines are unknown without the file; at least one was there if bytes were.
    if (bytes > 0) this.#lose('deleted_unread', 1, bytes);
    f.done = true;
    f.gone = true;
    f.fd = undefined;
    if (this.#replay !== undefined && this.#files.every((x) => x.done)) this.#replay = undefined;
  }

  /** Gives up the oldest rotated files beyond the bound, counting their unread lines. */
  #enforceRotatedBound(): void {
    const rotated = this.#files.filter((f) => !f.done && !f.canonical && f.stopAt === undefined && f !== this.#files.at(-1));
    for (let i = 0; i < rotated.length - this.#deps.opts.maxOpenRotated; i++) {
      const f = rotated[i]!;
      if (f.fd === undefined) continue;
      const st = fstatSync(f.fd);
      const lines = countLines(f.fd, f.readOff, st.size);
      this.#lose(st.nlink === 0 ? 'deleted_unread' : 'rotated_unread', lines, st.size - f.readOff);
      f.stopAt = f.readOff;
    }
  }

  #current(): TailFile | undefined {
    return this.#files.find((f) => !f.done);
  }

  /** The position after everything consumed so far. */
  #readPosition(): Pos {
    const f = this.#current();
    if (f !== undefined) return { seq: f.seq, off: this.#carry !== undefined ? this.#carryStart : f.readOff };
    const last = this.#files.at(-1);
    return last ? { seq: last.seq + 1, off: 0 } : this.#frontier;
  }

  #buildingFull(): boolean {
    return this.#building.count >= this.#deps.opts.batchMaxRecords || this.#building.sizeBytes >= this.#deps.opts.batchMaxBytes;
  }

  /** Reads one chunk; true when it made progress. */
  #readSome(now: number): boolean {
    const f = this.#current();
    if (f === undefined) return false;
    if (f.fd === undefined) {
      // Known from the checkpoint but not found by a scan yet: wait for the scan to settle it.
      return false;
    }
    const st = fstatSync(f.fd);
    if (st.size < f.readOff && f.stopAt === undefined) return this.#truncated(f, st.size);
    if (st.size > f.size) f.lastGrowthAt = now;
    f.size = st.size;
    const limit = f.stopAt ?? st.size;
    if (f.readOff < limit) {
      // The unfinished line of the last read goes first in the buffer and the chunk is read behind it: one line of
      // text copied, instead of the whole chunk concatenated to it (a new 256 KiB buffer at nearly every read).
      const len = Math.min(this.#deps.opts.readChunkBytes, limit - f.readOff);
      const carry = this.#carry?.length ?? 0;
      const buf = sharedReadBuffer(carry + this.#deps.opts.readChunkBytes);
      if (carry > 0) this.#carry!.copy(buf, 0);
      const got = readAt(f.fd, len, f.readOff, buf.subarray(carry)).length;
      if (got === 0) return false;
      this.#consume(f, buf.subarray(0, carry + got), got, now);
      if (this.#readCount > 0) {
        this.#deps.metrics.readLines.inc(this.#deps.labels, this.#readCount);
        this.#readCount = 0;
      }
      if (f.fpLen < FP_BYTES && f.readOff >= FP_BYTES && f.stopAt === undefined) Object.assign(f, fingerprint(f.fd, f.readOff));
      return true;
    }
    // At the end of this file: finished if a newer file took over, or it was given up.
    const next = this.#files[this.#files.indexOf(f) + 1];
    const settled = now - f.lastGrowthAt >= this.#deps.opts.rotateWaitMs;
    let nextHasData = false;
    if (next?.fd !== undefined) nextHasData = fstatSync(next.fd).size > 0;
    const deleted = st.nlink === 0;
    if (f.stopAt !== undefined || (next !== undefined && (nextHasData || settled)) || (deleted && settled && next === undefined)) {
      this.#finishFile(f, now, next === undefined);
      return true;
    }
    return false;
  }

  #finishFile(f: TailFile, now: number, last: boolean): void {
    if (this.#carry !== undefined) {
      // A final line without its newline: complete it (a runtime never leaves one; a plain file may).
      const line = this.#carry;
      this.#carry = undefined;
      this.#line(f, line, this.#carryStart, f.readOff, this.#overlong, now);
      this.#overlong = false;
    }
    f.done = true;
    if (last) {
      this.ended = true;
      this.#asm.flushIdle(now, 0);
    }
    this.#drain();
  }

  /** The file shrank under the reader: copytruncate. */
  #truncated(f: TailFile, newSize: number): boolean {
    const copy = this.#findCopy(f);
    const fresh: TailFile = { ...f, seq: this.#nextSeq++, readOff: 0, stopAt: undefined, done: false, fp: '', fpLen: 0, size: newSize, lastGrowthAt: Date.now(), canonical: true };
    if (copy !== undefined && copy.size >= f.readOff) {
      // Read the rest from the copy as the rest of this file; the truncated inode is the next file.
      f.dev = copy.dev;
      f.ino = copy.ino;
      f.path = copy.path;
      f.fd = copy.fd;
      f.canonical = false;
      f.stopAt = copy.size;
      this.#ignored = this.#ignored.filter((i) => !(i.dev === copy.dev && i.ino === copy.ino));
      this.#deps.fileOpened(1);
    } else {
      if (copy !== undefined) closeSync(copy.fd);
      this.#lose('copytruncate', f.size > f.readOff || this.#carry !== undefined ? 1 : 0, Math.max(0, f.size - f.readOff));
      f.stopAt = f.readOff;
      if (this.#carry !== undefined) {
        this.#carry = undefined;
        this.#overlong = false;
      }
      f.fd = undefined; // the descriptor now belongs to `fresh`
      f.done = true;
    }
    this.#files.splice(this.#files.indexOf(f) + 1, 0, fresh);
    this.#deps.log.info({ chain: this.key, recovered: copy !== undefined }, 'log file truncated (copytruncate)');
    return true;
  }

  #findCopy(f: TailFile): { fd: number; dev: string; ino: string; size: number; path: string } | undefined {
    if (f.fpLen === 0) return undefined;
    const dir = dirname(f.path);
    const base = basename(this.key);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return undefined;
    }
    for (const name of names) {
      if (!name.startsWith(base) || !isRotatedName(name)) continue;
      let fd: number;
      try {
        fd = openSync(join(dir, name), 'r');
      } catch {
        continue;
      }
      const st = fstatSync(fd, { bigint: true });
      const dev = String(st.dev);
      const ino = String(st.ino);
      if (this.#files.some((x) => x.dev === dev && x.ino === ino) || Number(st.size) < f.fpLen || sha(readAt(fd, f.fpLen, 0)) !== f.fp) {
        closeSync(fd);
        continue;
      }
      return { fd, dev, ino, size: Number(st.size), path: join(dir, name) };
    }
    return undefined;
  }

  /** `data`: the carried unfinished line (if any) followed by `chunkLen` bytes just read at `f.readOff`. */
  #consume(f: TailFile, data: Buffer, chunkLen: number, now: number): void {
    const max = this.#deps.opts.maxLineBytes;
    const base = this.#carry !== undefined ? this.#carryStart : f.readOff;
    const dataEnd = f.readOff + chunkLen; // file offset of data's end
    f.readOff = dataEnd;
    // While a line is overlong, `data` holds its kept head (max bytes) then new bytes; the head's file offsets
    // are not contiguous with the rest, so track the line start separately.
    let pos = 0;
    for (;;) {
      const nl = data.indexOf(10, pos);
      if (nl === -1) break;
      const lineFileEnd = dataEnd - (data.length - nl - 1);
      if (this.#overlong) {
        this.#line(f, data.subarray(0, Math.min(max, nl)), this.#carryStart, lineFileEnd, true, now);
        this.#overlong = false;
      } else {
        const start = base + pos;
        const len = nl - pos;
        if (len > max) this.#line(f, data.subarray(pos, pos + max), start, lineFileEnd, true, now);
        else this.#line(f, data.subarray(pos, nl), start, lineFileEnd, false, now);
      }
      pos = nl + 1;
    }
    if (pos >= data.length) {
      this.#carry = undefined;
      return;
    }
    if (this.#overlong) {
      this.#carry = Buffer.from(data.subarray(0, Math.min(max, data.length))); // a copy: `data` may be the shared read buffer
      return;
    }
    const rest = data.subarray(pos);
    this.#carryStart = base + pos;
    if (rest.length > max) {
      this.#overlong = true;
      this.#carry = Buffer.from(rest.subarray(0, max));
    } else this.#carry = Buffer.from(rest);
  }

  #line(f: TailFile, raw: Buffer, startOff: number, endOff: number, truncated: boolean, now: number): void {
    let len = raw.length;
    if (len > 0 && raw[len - 1] === 13) len--; // CRLF in a plain file
    const entry = parseLine(raw.toString('utf8', 0, len));
    const start = { seq: f.seq, off: startOff };
    this.#readCount++;
    const skipTo = this.#skip[entry.stream];
    if (skipTo !== undefined && cmpPos(start, skipTo) < 0) return; // part of a record already acknowledged
    const line: Line = { entry, start, end: { seq: f.seq, off: endOff }, truncated };
    const before = this.#asm.heldBytes;
    this.#asm.push(line, now);
    this.#hold(this.#asm.heldBytes - before);
    this.#drain();
  }

  #hold(delta: number): void {
    this.#held += delta;
    this.#deps.hold(delta);
  }

  /** The batch being built is the one in flight before the restart, rebuilt (it is neither complete nor sent yet). */
  #rebuilding(): InflightState | undefined {
    return this.#inflight === undefined && this.#queue.length === 0 && this.#retry === undefined ? this.#replay : undefined;
  }

  /**
   * Finished records, in order, into batches. A full batch joins the queue of complete ones; only when that queue
   * is full do records wait in the assembler (and reading pauses): records are bytes as soon as possible.
   */
  #drain(): void {
    for (;;) {
      const replay = this.#rebuilding();
      if (replay === undefined && this.#buildingFull()) {
        if (this.#queueFull()) return;
        this.#seal();
      }
      const rec = this.#asm.take();
      if (rec === undefined) return;
      if (rec.truncated) this.#lose('truncated', 1, 0);
      this.#addToBuilding(rec, replay);
      // Rebuilding the batch from before a restart: it ends exactly where it ended then, whatever the limits.
      if (replay !== undefined && cmpPos(rec.start, replay.cutAt) >= 0) {
        this.#building.state = replay;
        this.#seal();
      }
    }
  }

  #queueFull(): boolean {
    return this.#queue.length >= (this.#deps.opts.gzip ? MAX_QUEUED : 1);
  }

  #addToBuilding(rec: Rec, replay: InflightState | undefined): void {
    const b = this.#building;
    if (b.count === 0) {
      b.since = Date.now();
      b.first = rec.start;
      // A rebuilt batch gives its records the observed time they were sent with.
      if (replay !== undefined) b.observedNs = BigInt(replay.observedNs);
    }
    if (rec.timeNs === 0n && b.observedNs === 0n) b.observedNs = BigInt(Date.now()) * 1_000_000n;
    b.records.add(toOutRecord(rec, b.observedNs));
    b.count++;
    b.held += rec.bytes;
    b.sizeBytes += rec.bytes + 64;
    b.last = rec.start;
    const end = b.ends[rec.stream];
    if (end === undefined || cmpPos(rec.end, end) > 0) b.ends[rec.stream] = rec.end;
  }

  #seal(): void {
    const b = this.#building;
    this.#complete(b);
    this.#queue.push(b);
    this.#building = new PendingBatch(b.encoded);
  }

  /**
   * A batch is complete: its state is fixed (a rebuilt batch has the one it was sent with) and its request made;
   * compressed, the uncompressed bytes go back to the pool at once (a waiting batch holds ~7x fewer bytes).
   */
  #complete(b: PendingBatch): void {
    b.state ??= { cutAt: b.last!, observedNs: String(b.observedNs), resource: this.#deps.resource() };
    if (b.body !== undefined) return;
    b.encoded = b.records.bytes;
    const resource: Attr[] = b.state.resource.map(([key, value]) => ({ key, value }));
    const raw = b.records.finish(resource, SCOPE_NAME);
    if (this.#deps.opts.gzip) {
      b.body = gzipSync(raw, { level: zlibConstants.Z_BEST_SPEED });
      b.records.release();
    } else b.body = raw;
  }

  #mayRead(): boolean {
    if (this.#closed || !this.#deps.mayRead()) return false;
    // The queue of complete batches full and the next one full too: wait for the sends.
    return !(this.#queueFull() && this.#buildingFull()) && this.#asm.pendingCount < this.#deps.opts.batchMaxRecords;
  }

  /** Starts sending the next batch if none is in flight; true when it did. */
  #dispatch(now: number): boolean {
    if (this.#sending !== undefined) return false;
    let batch = this.#retry ?? this.#queue[0];
    if (batch === undefined) {
      if (this.#building.count === 0) return false;
      if (this.#replay !== undefined) return false; // a replayed batch is sent only whole
      // A batch lingers up to batchLingerMs for more records, also when the reader is caught up: sending at every end of
      // file made a request per read (110 requests/s of ~90 records for 8 containers at 10,000 lines/s) and the
      // per-request work (checkpoint write, gzip call, HTTP) cost more than the lines. A chain that ended sends at once.
      if (!this.ended && now - this.#building.since < this.#deps.opts.batchLingerMs && !this.#buildingFull()) return false;
      batch = this.#building;
      this.#building = new PendingBatch(this.#lastBatchBytes);
    } else if (batch === this.#retry) this.#retry = undefined;
    else this.#queue.shift();
    this.#complete(batch);
    this.#inflight = batch.state;
    this.#lastBatchBytes = batch.encoded;
    this.#sending = this.#send(batch).finally(() => {
      this.#sending = undefined;
      this.#wake?.();
    });
    return true;
  }

  async #send(b: PendingBatch): Promise<void> {
    await this.#deps.commit(); // the batch is in the checkpoint before the gateway sees it
    const batch: Batch = { signal: 'logs', body: b.body!, items: b.count, ...(this.#deps.opts.gzip ? { encoding: 'gzip' as const } : {}) };
    let settled: Settled;
    try {
      settled = await this.#deps.sink.send(batch, this.#abort.signal);
    } catch (e) {
      if (this.#closed) return;
      // The sink gives up only when aborted; anything else is a bug in it: send the same batch again next.
      this.#deps.log.error({ err: e, chain: this.key }, 'log batch send failed; will retry');
      this.#retry = b;
      return;
    }
    if (settled.ok) {
      this.#deps.metrics.batches.inc({ outcome: 'ok' });
      this.#deps.metrics.sentRecords.inc(this.#deps.labels, b.count);
      const rejected = settled.rejected ?? 0;
      if (rejected > 0) this.#lose('refused', rejected, 0);
    } else {
      this.#deps.metrics.batches.inc({ outcome: 'refused' });
      this.#deps.log.error({ chain: this.key, status: settled.status, reason: settled.reason, records: b.count }, 'gateway refused a log batch for good');
      this.#lose('refused', b.count, 0);
    }
    this.#ack(b);
  }

  #ack(b: PendingBatch): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const end = b.ends[stream];
      const s = this.#skip[stream];
      if (end !== undefined && (s === undefined || cmpPos(end, s) > 0)) this.#skip[stream] = end;
    }
    this.#hold(-b.held);
    b.body = undefined;
    b.records.release(); // the request's bytes go back to the pool
    this.#replay = undefined;
    this.#inflight = undefined;
    const building = this.#building.count > 0 ? this.#building.first : undefined;
    this.#frontier = this.#retry?.first ?? this.#queue[0]?.first ?? building ?? this.#asm.firstStart() ?? this.#readPosition();
    const fr = this.#frontier;
    this.#breaks = this.#breaks.filter((b) => cmpPos(b.at, fr) > 0);
    for (const s of ['stdout', 'stderr'] as const) {
      const sk = this.#skip[s];
      if (sk !== undefined && cmpPos(sk, fr) <= 0) delete this.#skip[s];
    }
    // Files wholly before the frontier are finished with.
    for (const f of this.#files) {
      if (f.done && f.seq < fr.seq && f.fd !== undefined) {
        closeSync(f.fd);
        f.fd = undefined;
        this.#deps.fileOpened(-1);
      }
    }
    for (const f of this.#files) {
      if (f.done && f.seq < fr.seq && !f.gone && f.fpLen > 0) this.#finished.push({ dev: f.dev, ino: f.ino, fp: f.fp, fpLen: f.fpLen });
    }
    this.#files = this.#files.filter((f) => !(f.done && f.seq < fr.seq));
    // Not awaited, and deferred: the next batch's commit (before its send) carries this one; a crash before any
    // write only replays this batch, still named in flight, into the same bytes (see CheckpointStore.commitLater).
    this.#deps.commitLater();
  }

  /** Nothing left to read or send and the container is gone: the chain can be forgotten. */
  finished(): boolean {
    return (
      this.ended &&
      this.#sending === undefined &&
      this.#retry === undefined &&
      this.#queue.length === 0 &&
      this.#building.count === 0 &&
      this.#asm.pendingCount === 0 &&
      this.#current() === undefined
    );
  }

  /** The chain's loop: read, batch, send; sleeps when there is nothing to do. */
  async run(pollMs: number): Promise<void> {
    let spins = 0;
    while (!this.#closed) {
      const now = Date.now();
      let progressed = false;
      this.#drain();
      if (this.#mayRead()) progressed = this.#readSome(now);
      if (this.#replay === undefined && this.#asm.hasOpen()) {
        this.#asm.flushIdle(now, this.#deps.opts.flushTimeoutMs);
        this.#drain();
      }
      const f = this.#current();
      const atEnd = !progressed && (f === undefined || f.readOff >= f.size);
      if (this.#rebuilding() !== undefined && atEnd && this.#building.count > 0 && (f === undefined || f.fd !== undefined)) {
        // Everything there is was read and the batch from before the restart did not come back whole (a file
        // went away meanwhile): send what there is; the gateway may store part of it a second time.
        this.#deps.log.warn({ chain: this.key }, 'the batch in flight before the restart could not be rebuilt exactly');
        this.#replay = undefined;
      }
      if (this.#dispatch(now)) progressed = true;
      if (this.finished()) break;
      if (progressed && ++spins < 64) {
        await new Promise((r) => setImmediate(r));
        continue;
      }
      spins = 0;
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, progressed ? 0 : pollMs);
        function done() {
          clearTimeout(t);
          resolve();
        }
        this.#wake = done;
      });
      this.#wake = undefined;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#abort.abort(new Error('agent closing'));
    this.#wake?.();
    await this.#sending;
    for (const b of [this.#building, ...this.#queue, this.#retry]) b?.records.release();
    this.#deps.hold(-this.#held);
    this.#held = 0;
    for (const f of this.#files) {
      if (f.fd !== undefined) {
        closeSync(f.fd);
        f.fd = undefined;
        this.#deps.fileOpened(-1);
      }
    }
  }
}

