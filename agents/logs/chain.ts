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
 */
import { closeSync, fstatSync, openSync, readSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '#core/log.ts';
import type { Batch, Settled, Sink } from '../core/contracts.ts';
import { type ChainState, type FileState, type InflightState, type Pos, cmpPos } from './checkpoint.ts';
import { isRotatedName } from './discover.ts';
import { type Attr, encodeLogs, type OutRecord } from './encode.ts';
import { Assembler, type Line, type MultilineRule, type Rec } from './join.ts';
import type { LogMetrics, LossReason } from './metrics.ts';
import { parseLine, type Stream } from './parse.ts';
import { toOutRecord } from './record.ts';

export const FP_BYTES = 256;
/** How long a batch that is not full waits for more records before it is sent (the added latency, at most). */
export const LINGER_MS = 200;
export const SCOPE_NAME = 'crowsnest/agent/logs';

export interface ChainOptions {
  maxLineBytes: number;
  maxRecordBytes: number;
  batchMaxRecords: number;
  batchMaxBytes: number;
  /** A multiline record or a partial line waiting longer than this is closed. */
  flushTimeoutMs: number;
  /** How long to wait for a rotated file to stop growing when the next file stays empty. */
  rotateWaitMs: number;
  maxOpenRotated: number;
  readChunkBytes: number;
  /** Pending records behind an open one before that one is closed. */
  maxPending: number;
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

interface SendingBatch {
  records: Rec[];
  state: InflightState;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('base64');

function readAt(fd: number, len: number, pos: number): Buffer {
  const buf = Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return got === len ? buf : buf.subarray(0, got);
}

export function fingerprint(fd: number, size: number): { fp: string; fpLen: number } {
  const fpLen = Math.min(size, FP_BYTES);
  return { fp: sha(readAt(fd, fpLen, 0)), fpLen };
}

/** Lines (newlines) in `[from, to)` of a file: what giving it up loses. */
function countLines(fd: number, from: number, to: number): number {
  let n = 0;
  const buf = Buffer.allocUnsafe(256 * 1024);
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
  #building: Rec[] = [];
  #buildingBytes = 0;
  #buildingSince = 0;
  #sealed: Rec[] | undefined;
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
    return this.#building.length >= this.#deps.opts.batchMaxRecords || this.#buildingBytes >= this.#deps.opts.batchMaxBytes;
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
      const chunk = readAt(f.fd, Math.min(this.#deps.opts.readChunkBytes, limit - f.readOff), f.readOff);
      if (chunk.length === 0) return false;
      this.#consume(f, chunk, now);
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

  #consume(f: TailFile, chunk: Buffer, now: number): void {
    const max = this.#deps.opts.maxLineBytes;
    let data: Buffer;
    let base: number;
    if (this.#carry !== undefined) {
      data = this.#carry.length === 0 ? chunk : Buffer.concat([this.#carry, chunk]);
      base = this.#carryStart;
    } else {
      data = chunk;
      base = f.readOff;
    }
    const dataEnd = f.readOff + chunk.length; // file offset of data's end
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
      this.#carry = data.subarray(0, Math.min(max, data.length));
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

  /** Finished records, in order, into batches. */
  #drain(): void {
    for (;;) {
      const replay = this.#sealed === undefined ? this.#replay : undefined;
      if (replay === undefined && this.#buildingFull()) {
        // A full batch waits for the one in flight; records stay in the assembler meanwhile (reading pauses).
        if (this.#sealed !== undefined) return;
        this.#seal();
      }
      const rec = this.#asm.take();
      if (rec === undefined) return;
      if (rec.truncated) this.#lose('truncated', 1, 0);
      this.#addToBuilding(rec);
      // Rebuilding the batch from before a restart: it ends exactly where it ended then, whatever the limits.
      if (replay !== undefined && cmpPos(rec.start, replay.cutAt) >= 0) this.#seal();
    }
  }

  #addToBuilding(rec: Rec): void {
    if (this.#building.length === 0) this.#buildingSince = Date.now();
    this.#building.push(rec);
    this.#buildingBytes += rec.bytes + 64;
  }

  #seal(): void {
    this.#sealed = this.#building;
    this.#building = [];
    this.#buildingBytes = 0;
  }

  #mayRead(): boolean {
    if (this.#closed || !this.#deps.mayRead()) return false;
    // One sealed batch waiting and the next one full: wait for the send.
    return !(this.#sealed !== undefined && this.#buildingFull()) && this.#asm.pendingCount < this.#deps.opts.batchMaxRecords;
  }

  /** Starts sending the next batch if none is in flight; true when it did. */
  #dispatch(now: number): boolean {
    if (this.#sending !== undefined) return false;
    let records = this.#sealed;
    if (records === undefined) {
      if (this.#building.length === 0) return false;
      if (this.#replay !== undefined) return false; // a replayed batch is sent only whole
      // A batch lingers up to LINGER_MS for more records, also when the reader is caught up: sending at every end of
      // file made a request per read (110 requests/s of ~90 records for 8 containers at 10,000 lines/s) and the
      // per-request work (checkpoint write, gzip call, HTTP) cost more than the lines. A chain that ended sends at once.
      if (!this.ended && now - this.#buildingSince < LINGER_MS && !this.#buildingFull()) return false;
      records = this.#building;
      this.#building = [];
      this.#buildingBytes = 0;
    } else this.#sealed = undefined;
    const replay = this.#replay;
    const state: InflightState = replay ?? {
      cutAt: records.at(-1)!.start,
      observedNs: records.some((r) => r.timeNs === 0n) ? String(BigInt(Date.now()) * 1_000_000n) : '0',
      resource: this.#deps.resource(),
    };
    this.#inflight = state;
    this.#sending = this.#send({ records, state }).finally(() => {
      this.#sending = undefined;
      this.#wake?.();
    });
    return true;
  }

  async #send(b: SendingBatch): Promise<void> {
    await this.#deps.commit(); // the batch is in the checkpoint before the gateway sees it
    const observed = BigInt(b.state.observedNs);
    const out: OutRecord[] = b.records.map((r) => toOutRecord(r, observed));
    const resource: Attr[] = b.state.resource.map(([key, value]) => ({ key, value }));
    const body = encodeLogs({ resource, scopeName: SCOPE_NAME, records: out });
    const batch: Batch = { signal: 'logs', body, items: out.length };
    let settled: Settled;
    try {
      settled = await this.#deps.sink.send(batch, this.#abort.signal);
    } catch (e) {
      if (this.#closed) return;
      // The sink gives up only when aborted; anything else is a bug in it: retry the batch later.
      this.#deps.log.error({ err: e, chain: this.key }, 'log batch send failed; will retry');
      this.#sealed = b.records;
      return;
    }
    if (settled.ok) {
      this.#deps.metrics.batches.inc({ outcome: 'ok' });
      this.#deps.metrics.sentRecords.inc(this.#deps.labels, out.length);
      const rejected = settled.rejected ?? 0;
      if (rejected > 0) this.#lose('refused', rejected, 0);
    } else {
      this.#deps.metrics.batches.inc({ outcome: 'refused' });
      this.#deps.log.error({ chain: this.key, status: settled.status, reason: settled.reason, records: out.length }, 'gateway refused a log batch for good');
      this.#lose('refused', out.length, 0);
    }
    this.#ack(b.records);
  }

  #ack(records: Rec[]): void {
    for (const r of records) {
      const s = this.#skip[r.stream];
      if (s === undefined || cmpPos(r.end, s) > 0) this.#skip[r.stream] = r.end;
      this.#hold(-r.bytes);
    }
    this.#replay = undefined;
    this.#inflight = undefined;
    this.#frontier = this.#sealed?.[0]?.start ?? this.#building[0]?.start ?? this.#asm.firstStart() ?? this.#readPosition();
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
    return this.ended && this.#sending === undefined && this.#sealed === undefined && this.#building.length === 0 && this.#asm.pendingCount === 0 && this.#current() === undefined;
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
      if (this.#replay !== undefined && atEnd && this.#sealed === undefined && this.#building.length > 0 && (f === undefined || f.fd !== undefined)) {
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

