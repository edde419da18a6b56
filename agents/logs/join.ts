/**
 * Lines → records, per chain (one container's log), kept apart per stream so stdout and stderr never mix:
 *
 * 1. Partial lines: a runtime splits a long line into `P` pieces ended by an `F` piece (Docker: pieces without a
 *    trailing newline). Pieces of one stream are joined, also across a rotation (the chain spans files).
 * 2. Multiline (when the container has a rule): a line matching the start pattern begins a record; any other
 *    line continues the open record of its stream (a stack trace under its exception line). A record closes when
 *    the next start line of its stream arrives, at `maxLines` / `maxBytes`, or when the source's timer says it has
 *    waited long enough (`close`).
 *
 * Records leave in the order their first line was written (`take`): a stdout line written after the first line
 * of a stack trace still being assembled on stderr waits behind it. That order is what lets a single position
 * (the chain's frontier) say "everything before here is acknowledged".
 *
 * A record longer than `maxRecordBytes` is cut to it (`truncated`; the rest of its lines are consumed and
 * dropped). Pending records are bounded by `maxPending`: past it the oldest open record is closed (`forced`).
 */
import { type Pos, posKey } from './checkpoint.ts';
import type { Entry, LogFormat, Stream } from './parse.ts';

export interface Line {
  entry: Entry;
  start: Pos;
  /** Position after its newline. */
  end: Pos;
  /** The raw line was over the size limit and cut by the reader. */
  truncated: boolean;
}

export interface Rec {
  stream: Stream;
  format: LogFormat;
  timeNs: bigint;
  parts: string[];
  bytes: number;
  lines: number;
  start: Pos;
  end: Pos;
  truncated: boolean;
  done: boolean;
  /** The last piece was partial: the next piece of this stream continues the same line. */
  partialOpen: boolean;
  /** When the last piece arrived (ms), for the flush timeout. */
  lastAt: number;
}

export interface MultilineRule {
  start: RegExp;
  maxLines: number;
  maxBytes: number;
}

export interface AssemblerOptions {
  multiline?: MultilineRule | undefined;
  maxRecordBytes: number;
  maxPending: number;
}

export class Assembler {
  readonly #opts: AssemblerOptions;
  readonly #pending: Rec[] = [];
  #head = 0;
  readonly #open: Partial<Record<Stream, Rec>> = {};
  /** `stream:seq:off` of lines after which a record must close (replayed timer decisions). */
  readonly #breaks = new Set<string>();
  /** Bytes of record text held. */
  heldBytes = 0;

  constructor(opts: AssemblerOptions) {
    this.#opts = opts;
  }

  /** A timer closed a record after the line ending at `at` before a crash: close it there again. */
  addBreak(stream: Stream, at: Pos): void {
    this.#breaks.add(`${stream}:${posKey(at)}`);
  }

  get pendingCount(): number {
    return this.#pending.length - this.#head;
  }

  /** Start of the oldest record not yet taken, if any. */
  firstStart(): Pos | undefined {
    return this.#pending[this.#head]?.start;
  }

  push(line: Line, now: number): void {
    const e = line.entry;
    const s = e.stream;
    let rec = this.#open[s];
    const ml = this.#opts.multiline;
    if (rec !== undefined && rec.partialOpen) {
      this.#append(rec, e.text, line, false);
      rec.partialOpen = e.partial;
    } else if (rec !== undefined && ml !== undefined && !ml.start.test(e.text)) {
      this.#append(rec, e.text, line, true);
      rec.partialOpen = e.partial;
    } else {
      if (rec !== undefined) this.#finish(rec);
      rec = {
        stream: s,
        format: e.format,
        timeNs: e.timeNs,
        parts: [],
        bytes: 0,
        lines: 0,
        start: line.start,
        end: line.end,
        truncated: false,
        done: false,
        partialOpen: e.partial,
        lastAt: now,
      };
      this.#pending.push(rec);
      this.#open[s] = rec;
      this.#append(rec, e.text, line, false);
    }
    rec.lastAt = now;
    if (!rec.partialOpen) {
      if (ml === undefined) this.#finish(rec);
      else if (rec.lines >= ml.maxLines || rec.bytes >= ml.maxBytes) this.#finish(rec);
    }
    if (!rec.done && this.#breaks.size > 0 && this.#breaks.delete(`${s}:${posKey(line.end)}`)) this.#finish(rec);
    if (this.pendingCount > this.#opts.maxPending) this.#forceHead();
  }

  #append(rec: Rec, text: string, line: Line, newline: boolean): void {
    rec.end = line.end;
    rec.lines++;
    if (line.truncated) rec.truncated = true;
    const room = this.#opts.maxRecordBytes - rec.bytes;
    if (room <= 0) {
      if (text.length > 0 || newline) rec.truncated = true;
      return;
    }
    let piece = newline ? `\n${text}` : text;
    // Characters, not bytes, for speed; the limit is approximate by design for non-ASCII text (a UTF-8
    // character is at most 3 bytes per UTF-16 unit).
    if (piece.length > room) {
      piece = piece.slice(0, room);
      rec.truncated = true;
    }
    rec.parts.push(piece);
    rec.bytes += piece.length;
    this.heldBytes += piece.length;
  }

  #finish(rec: Rec): void {
    if (rec.done) return;
    rec.done = true;
    rec.partialOpen = false;
    if (this.#open[rec.stream] === rec) delete this.#open[rec.stream];
  }

  /** The oldest pending record is open and too much waits behind it: close it. Returns what was closed. */
  #forceHead(): void {
    const head = this.#pending[this.#head];
    if (head !== undefined && !head.done) {
      this.#finish(head);
      this.onForced?.(head);
    }
  }

  /** Told when a record is closed by a decision that a replay cannot repeat by itself (timer, pressure). */
  onForced: ((rec: Rec) => void) | undefined;

  /**
   * Closes open records whose last piece is older than `idleMs` (or all of them when `idleMs` is 0: the chain
   * ended). Each closure is reported to `onForced`.
   */
  flushIdle(now: number, idleMs: number): void {
    for (const s of ['stdout', 'stderr'] as const) {
      const rec = this.#open[s];
      if (rec !== undefined && now - rec.lastAt >= idleMs) {
        this.#finish(rec);
        this.onForced?.(rec);
      }
    }
  }

  /** Whether a stream has a record in assembly. */
  hasOpen(): boolean {
    return this.#open.stdout !== undefined || this.#open.stderr !== undefined;
  }

  /** The next finished record in start order, if the oldest is finished. */
  take(): Rec | undefined {
    const rec = this.#pending[this.#head];
    if (rec === undefined || !rec.done) return undefined;
    this.#pending[this.#head] = undefined as unknown as Rec;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#pending.length) {
      this.#pending.splice(0, this.#head);
      this.#head = 0;
    }
    this.heldBytes -= rec.bytes;
    return rec;
  }
}

export const textOf = (rec: Rec): string => (rec.parts.length === 1 ? rec.parts[0]! : rec.parts.join(''));
